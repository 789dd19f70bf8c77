/** How a document's pages become records: `document` (one record) or `each` (one per page). */
export type PagesMode = 'document' | 'each';
export const PAGES_MODES: readonly PagesMode[] = ['document', 'each'];
