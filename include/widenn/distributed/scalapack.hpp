#pragma once
// BLACS and ScaLAPACK from C++: the Fortran symbols widenn uses (Debian's libscalapack-openmpi ships no C header for
// them), a BLACS process grid over an MPI communicator, and a matrix in ScaLAPACK's 2-D block-cyclic layout.
//
// Layout (ScaLAPACK Users' Guide, Blackford et al. 1997, §4.3): a global m × n matrix is cut into nb × nb blocks;
// block (I, J) lives on process (I mod pr, J mod pc) of the pr × pc grid, and each process stores its blocks
// column-major, one after another, as a local_rows × local_cols matrix. Global row i is on process row (i / nb) mod pr,
// at local row (i / (nb·pr))·nb + i mod nb.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include <mpi.h>

#include "../core/errors.hpp"

namespace widenn::distributed {

namespace detail::scalapack {
extern "C" {
// BLACS (C interface)
int Csys2blacs_handle(MPI_Comm comm);
void Cfree_blacs_system_handle(int handle);
void Cblacs_gridinit(int* context, const char* order, int rows, int cols);
void Cblacs_gridinfo(int context, int* rows, int* cols, int* row, int* col);
void Cblacs_gridexit(int context);
// ScaLAPACK tools and solvers (Fortran interface: every argument by pointer, indices 1-based)
int numroc_(const int* n, const int* nb, const int* iproc, const int* isrcproc, const int* nprocs);
void descinit_(int* desc, const int* m, const int* n, const int* mb, const int* nb, const int* irsrc, const int* icsrc,
               const int* context, const int* lld, int* info);
void pdpotrf_(const char* uplo, const int* n, double* a, const int* ia, const int* ja, const int* desca, int* info);
void pdpotrs_(const char* uplo, const int* n, const int* nrhs, const double* a, const int* ia, const int* ja, const int* desca,
              double* b, const int* ib, const int* jb, const int* descb, int* info);
}
}  // namespace detail::scalapack

// The shape of a process grid: rows × cols processes.
struct grid_shape {
    int rows = 1;
    int cols = 1;
};

// The most nearly square grid of `processes` processes with rows <= cols (2 -> 1 × 2, 4 -> 2 × 2, 6 -> 2 × 3,
// 7 -> 1 × 7): ScaLAPACK's Cholesky communicates along both grid dimensions, and a square grid minimises the volume.
inline grid_shape near_square_grid(int processes) {
    require(processes >= 1, "distributed::near_square_grid: need at least one process, got ", processes);
    int rows = static_cast<int>(std::sqrt(static_cast<double>(processes)));
    while (rows > 1 && processes % rows != 0) --rows;
    return {rows, processes / rows};
}

// A BLACS process grid over an MPI communicator (row-major rank order). Every process of the communicator constructs
// it (a collective call) and destroys it; not copyable.
class process_grid {
public:
    process_grid(MPI_Comm comm, grid_shape shape) : comm_(comm), shape_(shape) {
        MPI_Comm_rank(comm_, &rank_);
        MPI_Comm_size(comm_, &size_);
        require(shape.rows >= 1 && shape.cols >= 1 && shape.rows * shape.cols == size_, "distributed::process_grid: a ", shape.rows,
                " x ", shape.cols, " grid needs ", shape.rows * shape.cols, " processes, the communicator has ", size_);
        handle_ = detail::scalapack::Csys2blacs_handle(comm_);
        context_ = handle_;
        detail::scalapack::Cblacs_gridinit(&context_, "Row", shape.rows, shape.cols);
        int rows = 0, cols = 0;
        detail::scalapack::Cblacs_gridinfo(context_, &rows, &cols, &row_, &col_);
    }
    explicit process_grid(MPI_Comm comm) : process_grid(comm, near_square_grid(communicator_size(comm))) {}
    process_grid(const process_grid&) = delete;
    process_grid& operator=(const process_grid&) = delete;
    ~process_grid() {
        detail::scalapack::Cblacs_gridexit(context_);
        detail::scalapack::Cfree_blacs_system_handle(handle_);
    }

    MPI_Comm comm() const { return comm_; }
    int context() const { return context_; }
    int rows() const { return shape_.rows; }
    int cols() const { return shape_.cols; }
    int row() const { return row_; }  // this process's grid coordinates
    int col() const { return col_; }
    int rank() const { return rank_; }
    int size() const { return size_; }

    static int communicator_size(MPI_Comm comm) {
        int size = 0;
        MPI_Comm_size(comm, &size);
        return size;
    }

private:
    MPI_Comm comm_;
    grid_shape shape_;
    int rank_ = 0, size_ = 1, handle_ = 0, context_ = 0, row_ = 0, col_ = 0;
};

// Index arithmetic of the block-cyclic layout along one dimension (0-based global and local indices).
struct cyclic_dimension {
    std::size_t n;   // global extent
    std::size_t nb;  // block size
    int procs;       // processes along this dimension
    int me;          // this process's coordinate

    int owner(std::size_t global) const { return static_cast<int>((global / nb) % static_cast<std::size_t>(procs)); }
    std::size_t local_index(std::size_t global) const { return (global / (nb * static_cast<std::size_t>(procs))) * nb + global % nb; }
    std::size_t global_index(std::size_t local) const {
        return ((local / nb) * static_cast<std::size_t>(procs) + static_cast<std::size_t>(me)) * nb + local % nb;
    }
    // The number of indices this process holds (ScaLAPACK's NUMROC).
    std::size_t local_count() const {
        const std::size_t blocks = (n + nb - 1) / nb, p = static_cast<std::size_t>(procs), m = static_cast<std::size_t>(me);
        if (blocks <= m) return 0;
        const std::size_t mine = (blocks - 1 - m) / p + 1;  // blocks b = m, m + p, ... below `blocks`
        const bool has_last = (blocks - 1) % p == m;        // the last block may be short
        return mine * nb - (has_last ? blocks * nb - n : 0);
    }
    // This process's blocks: global block indices me, me + procs, ...
    std::size_t local_blocks() const {
        const std::size_t blocks = (n + nb - 1) / nb, m = static_cast<std::size_t>(me);
        return blocks <= m ? 0 : (blocks - 1 - m) / static_cast<std::size_t>(procs) + 1;
    }
    std::size_t global_block(std::size_t local_block) const { return local_block * static_cast<std::size_t>(procs) + static_cast<std::size_t>(me); }
};

// A global rows × cols matrix in the block-cyclic layout of `grid` with square blocks of edge `block`; this process's
// part column-major in local() (leading dimension ld()), zero-initialised.
class block_cyclic_matrix {
public:
    block_cyclic_matrix(const process_grid& grid, std::size_t rows, std::size_t cols, std::size_t block)
        : row_dim_{rows, block, grid.rows(), grid.row()}, col_dim_{cols, block, grid.cols(), grid.col()} {
        constexpr auto int_max = static_cast<std::size_t>(std::numeric_limits<int>::max());
        require<shape_error>(rows >= 1 && cols >= 1 && block >= 1, "distributed::block_cyclic_matrix: need a non-empty matrix and a block of at least 1, got ",
                             rows, " x ", cols, " with block ", block);
        require<shape_error>(rows <= int_max && cols <= int_max && block <= int_max,
                             "distributed::block_cyclic_matrix: ScaLAPACK indexes with int; ", rows, " x ", cols, " is too large");
        const int m = static_cast<int>(rows), n = static_cast<int>(cols), nb = static_cast<int>(block), zero = 0;
        const int my_rows = detail::scalapack::numroc_(&m, &nb, &row_dim_.me, &zero, &row_dim_.procs);
        const int my_cols = detail::scalapack::numroc_(&n, &nb, &col_dim_.me, &zero, &col_dim_.procs);
        require(static_cast<std::size_t>(my_rows) == row_dim_.local_count() && static_cast<std::size_t>(my_cols) == col_dim_.local_count(),
                "distributed::block_cyclic_matrix: NUMROC disagrees with widenn's block-cyclic index arithmetic");
        ld_ = std::max<std::size_t>(1, row_dim_.local_count());
        const int lld = static_cast<int>(ld_), context = grid.context();
        int info = 0;
        detail::scalapack::descinit_(descriptor_, &m, &n, &nb, &nb, &zero, &zero, &context, &lld, &info);
        require(info == 0, "distributed::block_cyclic_matrix: ScaLAPACK DESCINIT failed with info ", info);
        local_.assign(ld_ * col_dim_.local_count(), 0.0);
    }

    std::size_t rows() const { return row_dim_.n; }
    std::size_t cols() const { return col_dim_.n; }
    std::size_t block() const { return row_dim_.nb; }
    const cyclic_dimension& row_layout() const { return row_dim_; }
    const cyclic_dimension& col_layout() const { return col_dim_; }
    std::size_t local_rows() const { return row_dim_.local_count(); }
    std::size_t local_cols() const { return col_dim_.local_count(); }
    std::size_t ld() const { return ld_; }
    double* local() { return local_.data(); }
    const double* local() const { return local_.data(); }
    double& local(std::size_t i, std::size_t j) { return local_[i + j * ld_]; }
    double local(std::size_t i, std::size_t j) const { return local_[i + j * ld_]; }
    const int* descriptor() const { return descriptor_; }

private:
    cyclic_dimension row_dim_, col_dim_;
    std::size_t ld_ = 1;
    int descriptor_[9] = {};
    std::vector<double> local_;
};

}  // namespace widenn::distributed
