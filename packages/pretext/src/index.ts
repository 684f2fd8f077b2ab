export { ntXentLoss, rotnetLoss } from './losses';
