/**
 * Drives ImgGo's own TypeScript client (examples/common/imggo_client.ts, loaded by path
 * from the shared folder, unchanged) the way its README shows: upload an image and poll,
 * or submit a URL without polling and read the job. Prints one JSON line per result.
 *
 *   tsx ts-client.ts CLIENT_FILE BASE_URL PATTERN_ID (file PATH | url URL)…
 * The key comes from IMGGO_API_KEY, as the client expects.
 */
const [clientFile, baseUrl, patternId, ...steps] = process.argv.slice(2);
const { ImgGoClient } = (await import(clientFile!)) as {
  ImgGoClient: new (config: {
    baseUrl: string;
  }) => {
    processImage(path: string, patternId: string, options?: object): Promise<unknown>;
    processImageUrl(url: string, patternId: string, options?: object): Promise<{ job_id: string }>;
    waitForJob(jobId: string, options?: object): Promise<unknown>;
  };
};
const client = new ImgGoClient({ baseUrl: baseUrl! });
for (let i = 0; i < steps.length; i += 2) {
  const [kind, target] = [steps[i], steps[i + 1]!];
  if (kind === 'file') {
    const manifest = await client.processImage(target, patternId!);
    process.stdout.write(`${JSON.stringify({ kind, target, manifest })}\n`);
  } else {
    const job = await client.processImageUrl(target, patternId!, { poll: false });
    const manifest = await client.waitForJob(job.job_id, { waitSeconds: 1 });
    process.stdout.write(`${JSON.stringify({ kind, target, job_id: job.job_id, manifest })}\n`);
  }
}
