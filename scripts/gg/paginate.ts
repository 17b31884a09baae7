/** Every page of a list call: AWS returns a nextToken until the last page, and a first page is never the whole answer. */
export interface Page {
  nextToken?: string | undefined;
}

export async function allPages<P extends Page, T>(
  fetchPage: (nextToken: string | undefined) => Promise<P>,
  itemsOf: (page: P) => readonly T[] | undefined,
): Promise<T[]> {
  const items: T[] = [];
  const seen = new Set<string>();
  let nextToken: string | undefined;
  do {
    const page = (await fetchPage(nextToken)) as P | undefined;
    if (page === undefined) break;
    items.push(...(itemsOf(page) ?? []));
    nextToken = page.nextToken || undefined;
    // A token seen before would page forever; AWS never repeats one.
    if (nextToken !== undefined && seen.has(nextToken)) break;
    if (nextToken !== undefined) seen.add(nextToken);
  } while (nextToken !== undefined);
  return items;
}
