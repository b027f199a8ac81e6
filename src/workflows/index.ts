export { ImportOperator } from './import-operator.js';
export { ImportTour } from './import-tour.js';
export { Housekeeping } from './housekeeping.js';
