export { mineNeighbors, mineNeighborsAgainst, type MineNeighborsOptions } from './mine-neighbors';
export { runMine, mineSplit, loadPretextModel, NEIGHBORS_FILE, FEATURES_FILE, NEIGHBOR_CURVE_KS, type FeatureKind } from './stage';
