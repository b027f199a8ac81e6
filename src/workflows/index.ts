export { ImportOperator } from './import-operator.js';
export { ImportTour } from './import-tour.js';
