import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { IMAGE_EXTENSIONS, isImageFileName } from './image-decode';

// Listing class-folder datasets (`<split>/<class>/<image>`) in torchvision ImageFolder order.

/** A split as a list of image files with their class index (files sorted by name inside each class). */
export interface ClassFolderFiles {
  classNames: string[];
  files: string[];
  labels: Int32Array;
}

/** Sub-folder names of `dir`, sorted by code point like Python's `sorted()` (torchvision ImageFolder order). */
export function listSubfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() || (e.isSymbolicLink() && statSync(join(dir, e.name)).isDirectory()))
    .map((e) => e.name)
    .filter((name) => !name.startsWith('.'))
    .sort();
}

/** Image files (JPEG/PNG/WebP, any case) directly inside `dir`, full paths sorted by file name. */
export function listImageFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.') && isImageFileName(name))
    .sort()
    .map((name) => join(dir, name));
}

export function requireDirectory(dir: string, what: string): void {
  if (!existsSync(dir)) throw new Error(`${what} ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new Error(`${what} ${dir} is not a directory`);
}

/**
 * Files of the given classes (class index = position in `classNames`) under `splitDir/<class>/`.
 * A class folder without images is an error: an empty class would silently shift the cluster count.
 */
export function listClassFolderFiles(splitDir: string, classNames: readonly string[]): ClassFolderFiles {
  const files: string[] = [];
  const labels: number[] = [];
  classNames.forEach((name, label) => {
    const classDir = join(splitDir, name);
    requireDirectory(classDir, `class folder`);
    const images = listImageFiles(classDir);
    if (images.length === 0) {
      throw new Error(`class folder ${classDir} contains no image files (expected ${IMAGE_EXTENSIONS.join(', ')})`);
    }
    for (const file of images) {
      files.push(file);
      labels.push(label);
    }
  });
  return { classNames: [...classNames], files, labels: Int32Array.from(labels) };
}

/** Checks dataset.num_classes against the classes the data holds: stages size the cluster heads from it. */
export function checkNumClasses(configured: number | undefined, found: number, where: string): void {
  if (configured && configured > 0 && configured !== found) {
    throw new Error(
      `dataset.num_classes is ${configured} but ${where} has ${found} classes; set dataset.num_classes=${found}`,
    );
  }
}
