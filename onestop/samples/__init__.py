"""Sample data: `onestop demo` and the large generated databases of the benchmarks."""
