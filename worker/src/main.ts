// Capture worker entry (replaced by the worker implementation).
console.error('worker: not implemented yet');
process.exit(1);
