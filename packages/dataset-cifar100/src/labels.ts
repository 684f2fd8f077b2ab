// CIFAR-100 label tables: the 100 fine classes, the 20 coarse superclasses and the fine → coarse map.

/** Fine class names in label order (fine_label_names.txt). */
export const CIFAR100_FINE_CLASSES = [
  'apple', 'aquarium_fish', 'baby', 'bear', 'beaver', 'bed', 'bee', 'beetle', 'bicycle', 'bottle',
  'bowl', 'boy', 'bridge', 'bus', 'butterfly', 'camel', 'can', 'castle', 'caterpillar', 'cattle',
  'chair', 'chimpanzee', 'clock', 'cloud', 'cockroach', 'couch', 'crab', 'crocodile', 'cup', 'dinosaur',
  'dolphin', 'elephant', 'flatfish', 'forest', 'fox', 'girl', 'hamster', 'house', 'kangaroo', 'keyboard',
  'lamp', 'lawn_mower', 'leopard', 'lion', 'lizard', 'lobster', 'man', 'maple_tree', 'motorcycle', 'mountain',
  'mouse', 'mushroom', 'oak_tree', 'orange', 'orchid', 'otter', 'palm_tree', 'pear', 'pickup_truck', 'pine_tree',
  'plain', 'plate', 'poppy', 'porcupine', 'possum', 'rabbit', 'raccoon', 'ray', 'road', 'rocket',
  'rose', 'sea', 'seal', 'shark', 'shrew', 'skunk', 'skyscraper', 'snail', 'snake', 'spider',
  'squirrel', 'streetcar', 'sunflower', 'sweet_pepper', 'table', 'tank', 'telephone', 'television', 'tiger', 'tractor',
  'train', 'trout', 'tulip', 'turtle', 'wardrobe', 'whale', 'willow_tree', 'wolf', 'woman', 'worm',
];

/** Coarse class names as the official coarse_label_names.txt spells them. */
export const CIFAR100_COARSE_FILE_NAMES = [
  'aquatic_mammals', 'fish', 'flowers', 'food_containers', 'fruit_and_vegetables', 'household_electrical_devices',
  'household_furniture', 'insects', 'large_carnivores', 'large_man-made_outdoor_things', 'large_natural_outdoor_scenes',
  'large_omnivores_and_herbivores', 'medium_mammals', 'non-insect_invertebrates', 'people', 'reptiles', 'small_mammals',
  'trees', 'vehicles_1', 'vehicles_2',
];

/**
 * CIFAR-100-20 class names as the SCAN repo lists them (data/cifar.py), which results and tables use. Upstream
 * spells index 6 "househould furniture" (a typo); we write "household furniture".
 */
export const CIFAR20_CLASSES = [
  'aquatic mammals', 'fish', 'flowers', 'food containers', 'fruit and vegetables', 'household electrical devices',
  'household furniture', 'insects', 'large carnivores', 'large man-made outdoor things', 'large natural outdoor scenes',
  'large omnivores and herbivores', 'medium-sized mammals', 'non-insect invertebrates', 'people', 'reptiles',
  'small mammals', 'trees', 'vehicles 1', 'vehicles 2',
];

/**
 * Fine ids of each superclass (SCAN repo's `_cifar100_to_cifar20`, which equals the official coarse labels);
 * paper reference §5.
 */
const COARSE_MEMBERS: number[][] = [
  [4, 30, 55, 72, 95], [1, 32, 67, 73, 91], [54, 62, 70, 82, 92], [9, 10, 16, 28, 61], [0, 51, 53, 57, 83],
  [22, 39, 40, 86, 87], [5, 20, 25, 84, 94], [6, 7, 14, 18, 24], [3, 42, 43, 88, 97], [12, 17, 37, 68, 76],
  [23, 33, 49, 60, 71], [15, 19, 21, 31, 38], [34, 63, 64, 66, 75], [26, 45, 77, 79, 99], [2, 11, 35, 46, 98],
  [27, 29, 44, 78, 93], [36, 50, 65, 74, 80], [47, 52, 56, 59, 96], [8, 13, 48, 58, 90], [41, 69, 81, 85, 89],
];

/** FINE_TO_COARSE[fine] = coarse superclass id. */
export const FINE_TO_COARSE: Int32Array = (() => {
  const map = new Int32Array(100).fill(-1);
  COARSE_MEMBERS.forEach((fines, coarse) => {
    for (const f of fines) {
      // the table must be a partition of 0..99: guards against an edit breaking it
      if (map[f] !== -1) throw new Error(`CIFAR-100 fine id ${f} listed in superclasses ${map[f]} and ${coarse}`);
      map[f] = coarse;
    }
  });
  const missing = [...map.keys()].filter((f) => map[f] === -1);
  if (missing.length) throw new Error(`CIFAR-100 fine ids without superclass: ${missing.join(', ')}`);
  return map;
})();
