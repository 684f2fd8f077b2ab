// tools/sweep: the cpu-profile sweep. Nothing imports this project; exported for its tests.
export {
  readPlan,
  collectRow,
  renderTable,
  renderCsv,
  spliceTable,
  accuracyVsTimeSpec,
  type SweepPlan,
  type SweepRow,
} from './sweep';
