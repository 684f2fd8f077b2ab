// @scan-repro/mine: the mining stage (nearest neighbours of the pretext features).
export { runMine } from './stage';
