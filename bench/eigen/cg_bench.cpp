// Native reference for bench/solver.ts: Eigen's Jacobi-preconditioned CG and SpMV on the same matrix.
// Compiled at bench time (g++ -O3 -march=native [-fopenmp]); never committed as a binary.
//
// usage: cg_bench MATRIX.csr RHS.f64 X_OUT.f64 TOL MAX_ITER SPMV_REPS THREADS
//   MATRIX.csr: "OSCSR1\0\0", int64 rows, cols, nnz, int32 rowPtr[rows+1], int32 colIdx[nnz], f64 values[nnz]
//   RHS.f64: f64[rows]; X_OUT.f64 receives the solution (certified by the TypeScript side).
// Prints one JSON object on stdout.
#include <Eigen/IterativeLinearSolvers>
#include <Eigen/Sparse>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

using Clock = std::chrono::steady_clock;
using RowMat = Eigen::SparseMatrix<double, Eigen::RowMajor, int>;

static double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

template <typename F>
static double medianMs(int reps, F f) {
  for (int i = 0; i < 3; i++) f();  // warm up
  std::vector<double> ts;
  for (int i = 0; i < reps; i++) {
    auto t0 = Clock::now();
    f();
    ts.push_back(msSince(t0));
  }
  std::sort(ts.begin(), ts.end());
  return ts[ts.size() / 2];
}

static std::vector<char> readAll(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("cannot open ") + path);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr, "usage: %s MATRIX.csr RHS.f64 X_OUT.f64 TOL MAX_ITER SPMV_REPS THREADS\n", argv[0]);
    return 2;
  }
  try {
    const double tol = std::atof(argv[4]);
    const int maxIter = std::atoi(argv[5]);
    const int reps = std::atoi(argv[6]);
    const int threads = std::atoi(argv[7]);
    Eigen::setNbThreads(threads);

    std::vector<char> buf = readAll(argv[1]);
    if (buf.size() < 32 || std::memcmp(buf.data(), "OSCSR1\0\0", 8) != 0) throw std::runtime_error("bad CSR header");
    int64_t rows, cols, nnz;
    std::memcpy(&rows, buf.data() + 8, 8);
    std::memcpy(&cols, buf.data() + 16, 8);
    std::memcpy(&nnz, buf.data() + 24, 8);
    const size_t need = 32 + 4 * (rows + 1) + 4 * nnz + 8 * nnz;
    if (buf.size() != need) throw std::runtime_error("CSR file size does not match its header");
    const int* rowPtr = reinterpret_cast<const int*>(buf.data() + 32);
    const int* colIdx = rowPtr + rows + 1;
    std::vector<double> values(nnz);
    std::memcpy(values.data(), buf.data() + 32 + 4 * (rows + 1) + 4 * nnz, 8 * nnz);
    RowMat A = Eigen::Map<const RowMat>(rows, cols, nnz, rowPtr, colIdx, values.data());
    A.makeCompressed();

    std::vector<char> rb = readAll(argv[2]);
    if (rb.size() != size_t(8 * rows)) throw std::runtime_error("RHS size does not match the matrix");
    Eigen::VectorXd b(rows);
    std::memcpy(b.data(), rb.data(), 8 * rows);

    // SpMV: y = A x, the same operation and byte count as the TypeScript rows.
    Eigen::VectorXd x = Eigen::VectorXd::Ones(cols), y(rows);
    const double spmvMs = medianMs(reps, [&] { y.noalias() = A * x; });

    // STREAM triad on vectors sized like n, same definition as the TypeScript side.
    Eigen::VectorXd ta = Eigen::VectorXd::Zero(rows), tb = Eigen::VectorXd::Ones(rows), tc = Eigen::VectorXd::Ones(rows);
    const double triadMs = medianMs(reps, [&] { ta.noalias() = tb + 1.5 * tc; });
    // ... and sized so that it moves the SpMV's bytes (24·m = 12·nnz + 20·n): same cache regime.
    const int64_t m = (12 * nnz + 20 * rows + 23) / 24;
    Eigen::VectorXd wa = Eigen::VectorXd::Zero(m), wb = Eigen::VectorXd::Ones(m), wc = Eigen::VectorXd::Ones(m);
    const double triadWsMs = medianMs(reps, [&] { wa.noalias() = wb + 1.5 * wc; });

    Eigen::ConjugateGradient<RowMat, Eigen::Lower | Eigen::Upper, Eigen::DiagonalPreconditioner<double>> cg;
    cg.setTolerance(tol);
    cg.setMaxIterations(maxIter);
    auto t0 = Clock::now();
    cg.compute(A);
    Eigen::VectorXd sol = cg.solve(b);
    const double cgMs = msSince(t0);
    const bool converged = cg.info() == Eigen::Success;
    // Eigen does not count the iteration in which it converged; +1 makes the count comparable
    // (number of SpMVs in the loop), as the TypeScript PCG counts.
    const long iterations = cg.iterations() + (converged ? 1 : 0);

    std::ofstream out(argv[3], std::ios::binary);
    out.write(reinterpret_cast<const char*>(sol.data()), 8 * rows);
    if (!out) throw std::runtime_error("cannot write the solution");

    std::printf(
        "{\"spmv_ms\":%.6f,\"triad_ms\":%.6f,\"triad_ws_ms\":%.6f,\"cg_ms\":%.6f,\"cg_iterations\":%ld,\"converged\":%s,"
        "\"eigen_error\":%.6e,\"threads\":%d}\n",
        spmvMs, triadMs, triadWsMs, cgMs, iterations, converged ? "true" : "false", double(cg.error()), Eigen::nbThreads());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cg_bench: %s\n", e.what());
    return 1;
  }
}
