/**
 * Near-duplicate lookup over 64-bit perceptual hashes: a BK-tree under Hamming
 * distance, so "anything within N bits?" visits a small part of the tree instead of
 * every image seen. Holds one small node per distinct image of the run.
 */
import { hammingDistance } from '../image/fingerprint.js';

interface Node<T> {
  hash: string;
  value: T;
  children: Map<number, Node<T>>;
}

export class NearDuplicateIndex<T> {
  private root: Node<T> | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(hash: string, value: T): void {
    this.count++;
    const node: Node<T> = { hash, value, children: new Map() };
    if (!this.root) {
      this.root = node;
      return;
    }
    let current = this.root;
    for (;;) {
      const distance = hammingDistance(hash, current.hash);
      const child = current.children.get(distance);
      if (!child) {
        current.children.set(distance, node);
        return;
      }
      current = child;
    }
  }

  /** The closest entry within `maxDistance` bits, or undefined. */
  nearest(hash: string, maxDistance: number): { value: T; distance: number } | undefined {
    let best: { value: T; distance: number } | undefined;
    const stack: Node<T>[] = this.root ? [this.root] : [];
    while (stack.length) {
      const node = stack.pop()!;
      const distance = hammingDistance(hash, node.hash);
      if (distance <= maxDistance && (!best || distance < best.distance))
        best = { value: node.value, distance };
      // Triangle inequality: only subtrees at edge distance within ±maxDistance can hold a match.
      for (const [edge, child] of node.children) {
        if (edge >= distance - maxDistance && edge <= distance + maxDistance) stack.push(child);
      }
    }
    return best;
  }
}
