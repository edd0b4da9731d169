/**
 * The pipelines list's search: every word typed must appear, in any case, in the pipeline's id, its name or its
 * description, so "deploy prod" finds "Deploy to production" whichever field holds which word.
 */

export interface Searchable {
  id: string;
  name?: string | undefined;
  description?: string | undefined;
}

export function matchesSearch(pipeline: Searchable, search: string): boolean {
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const text = [pipeline.id, pipeline.name ?? "", pipeline.description ?? ""].join("\n").toLowerCase();
  return words.every((word) => text.includes(word));
}
