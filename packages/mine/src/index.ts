export { mineNeighbors, mineNeighborsAgainst, mineSplit, NEIGHBOR_CURVE_KS, type MineNeighborsOptions } from './mine-neighbors';
export { runMine } from './stage';
export { loadPretextModel } from './embed';
