export { mineNeighbors, mineNeighborsAgainst, type MineNeighborsOptions } from './mine-neighbors';
