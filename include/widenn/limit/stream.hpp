#pragma once
// limit::stream_row_blocks: a kernel larger than memory, computed and handed over in consecutive blocks of rows, for
// any plan of the block form (limit::kernel_plan for MLPs, limit::spec_kernel_plan for a SPEC's architecture:
// rows(), cols(), symmetric(), config(), block_into()).
//
//   limit::stream_row_blocks(plan, 512, [&](std::size_t r0, std::size_t r1, const limit::kernel_pair<double>& k) {
//       nngp_file.append(k.nngp);  // rows [r0, r1) against every column, in order
//   });
//
// Memory: one block of rows_per_block × cols() per kernel, reused from block to block. Each block is computed in tiles
// of 64 rows × 1024 columns in parallel (config().threads). A symmetric plan's block needs the columns left of its
// diagonal too, which earlier blocks computed and no longer hold, so streaming computes both triangles (twice the
// pairs of compute(), which mirrors one).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>

#include "../core/checked.hpp"
#include "../core/errors.hpp"
#include "../core/parallel.hpp"
#include "../core/tensor.hpp"
#include "kernel.hpp"

namespace widenn::limit {

template <class Plan, class Sink>
void stream_row_blocks(const Plan& plan, std::size_t rows_per_block, Sink&& sink, const std::function<void(double)>& progress = {}) {
    using T = typename Plan::value_type;
    constexpr const char* where = "limit::stream_row_blocks";
    require(rows_per_block >= 1, where, ": rows_per_block must be at least 1");
    const std::size_t m = plan.rows(), n = plan.cols(), block_rows = std::min(rows_per_block, m);
    const bool ntk = plan.config().compute_ntk;
    require_memory(checked_product({block_rows, n, sizeof(T), std::size_t{ntk ? 2u : 1u}}, where),
                   widenn::detail::concat(where, ": a block of ", block_rows, " x ", n, " kernel entries"), "stream fewer rows at a time");
    kernel_pair<T> block;
    constexpr std::size_t strip = 64, tile = 1024;
    const std::size_t tiles_per_strip = (n + tile - 1) / tile;
    const int threads = plan.config().threads > 0 ? plan.config().threads : max_threads();
    for (std::size_t r0 = 0; r0 < m; r0 += block_rows) {
        const std::size_t r1 = std::min(r0 + block_rows, m), rows = r1 - r0;
        if (block.nngp.shape()[0] != rows) {  // the first block, and a shorter last one
            block.nngp = matrix<T>::from_shape({rows, n});
            if (ntk) block.ntk = matrix<T>::from_shape({rows, n});
        }
        const std::size_t strips = (rows + strip - 1) / strip;
        parallel_for_dynamic(strips * tiles_per_strip, threads, [&](int, std::size_t t) {
            const std::size_t s0 = (t / tiles_per_strip) * strip, s1 = std::min(s0 + strip, rows);
            const std::size_t c0 = (t % tiles_per_strip) * tile, c1 = std::min(c0 + tile, n);
            plan.block_into(r0 + s0, r0 + s1, c0, c1, block.nngp.data() + s0 * n + c0, n, ntk ? block.ntk.data() + s0 * n + c0 : nullptr, n);
        });
        for (std::size_t k = 0; k < rows * n; ++k)
            if (!std::isfinite(block.nngp.data()[k]) || (ntk && !std::isfinite(block.ntk.data()[k])))
                fail<numerical_error>(where, ": entry (", r0 + k / n, ", ", k % n, ") of the kernels is not finite; rescale the inputs or "
                                      "lower weight_var, or compute in double");
        sink(r0, r1, static_cast<const kernel_pair<T>&>(block));
        if (progress) progress(static_cast<double>(r1) / static_cast<double>(m));
    }
}

}  // namespace widenn::limit
