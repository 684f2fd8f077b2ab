// tools/tables: paper numbers vs measured runs. Nothing imports this project; exported for its tests.
export { generateTables, PAPER_NUMBERS } from './main';
export { archiveRuns } from './archive';
export {
  readRecords,
  measure,
  recordedDir,
  meanStd,
  toPercent,
  type MeasuredRow,
  type ReproduceRecordFile,
  type ReproduceRowRecord,
} from './collect';
export { render, paperCell, paperText, oursCells, scaleText, figureSeries, type PaperNumbers } from './render';
