// @scan-repro/plots: every figure of the project, as a Vega-Lite spec rendered to SVG and PNG.
export { renderFigure, renderSvg, svgToPng, figureFiles, specJson, FONT_FAMILY, type Figure } from './render';
export {
  learningCurvesSpec,
  confusionMatrixSpec,
  sweepSpec,
  imageGridSpec,
  type CurvePanel,
  type CurveSeries,
  type SweepPoint,
  type SweepSeries,
  type Tile,
} from './specs';
export type { TopLevelSpec } from 'vega-lite';
