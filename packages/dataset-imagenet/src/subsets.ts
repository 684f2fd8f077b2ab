import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The SCAN ImageNet subsets; the lists are the official repo's data/imagenet_subsets/*.txt, copied verbatim. */
export const IMAGENET_SUBSETS = ['imagenet_50', 'imagenet_100', 'imagenet_200'] as const;
export type ImagenetSubsetName = (typeof IMAGENET_SUBSETS)[number];

export interface ImagenetClass {
  wnid: string;
  name: string;
}

export function isImagenetSubsetName(name: string): name is ImagenetSubsetName {
  return (IMAGENET_SUBSETS as readonly string[]).includes(name);
}

/** Parses a subset list: one `<wnid> <class name>` per line; the class index is the line number (from 0). */
export function parseSubsetList(text: string, source: string): ImagenetClass[] {
  const classes: ImagenetClass[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const m = /^(n\d{8})\s+(.+?)\s*$/.exec(line);
    if (!m) throw new Error(`${source}:${i + 1}: expected '<wnid> <class name>' (wnid like n01440764), got '${line}'`);
    if (seen.has(m[1])) throw new Error(`${source}:${i + 1}: wnid ${m[1]} listed twice`);
    seen.add(m[1]);
    classes.push({ wnid: m[1], name: m[2] });
  });
  return classes;
}

/** The classes of a SCAN subset, in the list's (= class index) order. */
export function imagenetSubsetClasses(subset: ImagenetSubsetName): ImagenetClass[] {
  if (!isImagenetSubsetName(subset)) {
    throw new Error(
      `dataset.subset: unknown ImageNet subset '${subset}'; expected one of ${IMAGENET_SUBSETS.join(', ')}`,
    );
  }
  const url = new URL(`../subsets/${subset}.txt`, import.meta.url);
  return parseSubsetList(readFileSync(url, 'utf8'), fileURLToPath(url));
}
