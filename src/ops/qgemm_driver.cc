// SPDX-License-Identifier: Apache-2.0
// The int8 GEMM driver: packs weights once, then per run splits the output into row x column
// tasks for the pool. Inside a task every A tile is packed exactly once and swept across all the
// task's B panels, B panels are visited in blocks that stay in L2 (GEBP order), and each mr x nr
// accumulator block goes straight through the epilogue.
#include "ops/qgemm_driver.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>

#include "core/error.h"
#include "core/threadpool.h"

namespace qk {
namespace {

constexpr size_t kAlign = 64;
constexpr size_t kBBlockBytes = 256 * 1024;  // B panels per block: about half an L2
constexpr size_t kABlockBytes = 256 * 1024;  // packed A per task
constexpr size_t kMaxATilesPerTask = 16;

size_t round_up(size_t x, size_t a) { return (x + a - 1) / a * a; }
size_t ceil_div(size_t x, size_t a) { return (x + a - 1) / a; }

uint8_t* align_up(uint8_t* p) {
  const uintptr_t v = reinterpret_cast<uintptr_t>(p);
  return p + (round_up(v, kAlign) - v);
}

size_t output_element_size(GemmOutput kind) { return kind == GemmOutput::kQuantized ? 1 : 4; }

// How the output is cut into tasks. Any cut gives the same bytes (each output element is an
// exact integer dot product followed by an element-wise epilogue), so the cut is free to follow
// the thread count for load balance.
struct Plan {
  size_t a_tile_bytes = 0;     // one packed A tile, rounded to kAlign
  size_t tiles_per_task = 0;   // A tiles (of mr rows) per task
  size_t row_tasks = 0;
  size_t panels_per_task = 0;  // B panels per task
  size_t col_tasks = 0;
  size_t panels_per_block = 0; // B panels per L2 block inside a task
  size_t scratch_bytes = 0;    // per thread: A tiles + accumulator block + alignment slack
};

Plan make_plan(const PackedWeights& w, size_t m, size_t threads) {
  const QGemmKernel& kern = w.kernel;
  Plan p;
  const size_t m_tiles = ceil_div(m, kern.mr);
  const size_t panels = ceil_div(w.n, kern.nr);
  p.a_tile_bytes = round_up(kern.a_tile_size(w.k), kAlign);
  const size_t tiles_cap = std::max<size_t>(1, std::min(kMaxATilesPerTask, kABlockBytes / p.a_tile_bytes));
  // Each row task streams all of its B columns and each column task packs all of its A rows, so
  // r row tasks x c column tasks move about r*n + c*m rows of k bytes. Enough tasks for the pool
  // (a few per thread even out uneven tile costs), then the cheapest split.
  size_t rows = ceil_div(m_tiles, tiles_cap), cols = 1;
  const size_t want = threads > 1 ? 4 * threads : 1;
  if (rows < want) {
    uint64_t best = UINT64_MAX;
    for (size_t r = rows; r <= std::min(m_tiles, want); ++r) {
      const size_t c = std::min(panels, ceil_div(want, r));
      const uint64_t traffic = uint64_t(r) * w.n + uint64_t(c) * m;
      if (traffic < best) best = traffic, rows = r, cols = c;
    }
  }
  p.tiles_per_task = ceil_div(m_tiles, rows);
  p.row_tasks = ceil_div(m_tiles, p.tiles_per_task);
  p.panels_per_task = ceil_div(panels, cols);
  p.col_tasks = ceil_div(panels, p.panels_per_task);
  p.panels_per_block = std::max<size_t>(1, kBBlockBytes / std::max<size_t>(1, kern.b_panel_stride(w.k)));
  p.scratch_bytes = p.tiles_per_task * p.a_tile_bytes + round_up(kern.mr * kern.nr * sizeof(int32_t), kAlign) + kAlign;
  return p;
}

struct RunContext {
  const PackedWeights* w;
  const Plan* plan;
  size_t m;
  const uint8_t* a;
  size_t lda;
  uint8_t xor_mask;
  const GemmEpilogue* ep;
  uint8_t* out;
  size_t ldo;
  size_t out_esize;
  uint8_t* scratch;
};

void run_task(const RunContext& c, size_t thread, size_t task) {
  const QGemmKernel& kern = c.w->kernel;
  const Plan& p = *c.plan;
  const size_t mr = kern.mr, nr = kern.nr, n = c.w->n, k = c.w->k;
  const size_t row_task = task / p.col_tasks, col_task = task % p.col_tasks;
  const size_t row_begin = row_task * p.tiles_per_task * mr;
  const size_t row_end = std::min(c.m, row_begin + p.tiles_per_task * mr);
  const size_t panel_begin = col_task * p.panels_per_task;
  const size_t panel_end = std::min(ceil_div(n, nr), panel_begin + p.panels_per_task);

  uint8_t* a_packed = align_up(c.scratch + thread * p.scratch_bytes);
  int32_t* acc = reinterpret_cast<int32_t*>(a_packed + p.tiles_per_task * p.a_tile_bytes);
  const size_t tiles = ceil_div(row_end - row_begin, mr);
  for (size_t t = 0; t < tiles; ++t) {
    const size_t row = row_begin + t * mr;
    kern.pack_a(c.a + row * c.lda, std::min(mr, row_end - row), k, c.lda, c.xor_mask, a_packed + t * p.a_tile_bytes);
  }
  const size_t panel_stride = kern.b_panel_stride(k);
  const uint8_t* b = c.w->packed_b();
  const auto epilogue = kern.epilogue ? kern.epilogue : gemm_epilogue_scalar;
  for (size_t block = panel_begin; block < panel_end; block += p.panels_per_block) {
    const size_t block_end = std::min(panel_end, block + p.panels_per_block);
    for (size_t t = 0; t < tiles; ++t) {
      const size_t row = row_begin + t * mr;
      const size_t rows = std::min(mr, row_end - row);
      const uint8_t* a_tile = a_packed + t * p.a_tile_bytes;
      // A single valid row (GEMV, or the last tile of m = mr*q + 1): the family's one-row kernel
      // when it has one (contract note 8); it fills row 0 of acc, the only row the epilogue reads.
      const auto ukernel_1row = rows == 1 ? kern.ukernel_1row : nullptr;
      for (size_t panel = block; panel < block_end; ++panel) {
        const size_t col = panel * nr;
        if (ukernel_1row != nullptr)
          ukernel_1row(k, a_tile, b + panel * panel_stride, acc);
        else
          kern.ukernel(k, a_tile, b + panel * panel_stride, acc, nr);
        epilogue(acc, nr, rows, std::min(nr, n - col), *c.ep, row, col,
                 c.out + (row * c.ldo + col) * c.out_esize, c.ldo);
      }
    }
  }
}

// row_offset[i] = -w_zp * sum_k A'[i][k]: the weight zero point's share of the correction.
void compute_row_offsets(const uint8_t* a, size_t m, size_t k, size_t lda, uint8_t xor_mask, int32_t w_zp,
                         int32_t* row_offset, ThreadPool* pool) {
  constexpr size_t kRowsPerTask = 64;
  parallel_for(pool, ceil_div(m, kRowsPerTask), [&](size_t, size_t task) {
    const size_t end = std::min(m, (task + 1) * kRowsPerTask);
    for (size_t i = task * kRowsPerTask; i < end; ++i) {
      const uint8_t* row = a + i * lda;
      uint32_t sum = 0;
      for (size_t j = 0; j < k; ++j) sum += static_cast<uint8_t>(row[j] ^ xor_mask);
      row_offset[i] = static_cast<int32_t>(0u - static_cast<uint32_t>(w_zp) * sum);
    }
  });
}

}  // namespace

std::shared_ptr<const PackedWeights> pack_weights(const int8_t* w, size_t n, size_t k, size_t ldw,
                                                   const float* w_scales, size_t scale_count, int32_t w_zero_point,
                                                   const float* bias_f32, const int32_t* bias_s32) {
  constexpr size_t kMaxDim = size_t(1) << 31;
  QK_FAIL_IF(w == nullptr || w_scales == nullptr, kInvalidArgument, "weights or scales are NULL");
  QK_FAIL_IF(n < 1 || n >= kMaxDim, kInvalidArgument, "n %zu is outside [1, 2^31)", n);
  QK_FAIL_IF(k < 1 || k > kMaxGemmDepth, kInvalidArgument, "k %zu is outside [1, %zu]", k, kMaxGemmDepth);
  QK_FAIL_IF(ldw < k, kInvalidArgument, "ldw %zu is smaller than k %zu", ldw, k);
  QK_FAIL_IF(scale_count != 1 && scale_count != n, kInvalidArgument, "%zu weight scales for n = %zu", scale_count, n);
  QK_FAIL_IF(scale_count == n && n > 1 && w_zero_point != 0, kInvalidArgument,
             "per-channel weights must be symmetric (zero point %d)", w_zero_point);
  QK_FAIL_IF(bias_f32 != nullptr && bias_s32 != nullptr, kInvalidArgument, "two biases given");

  const QGemmKernel& kern = active_qgemm_kernel();
  auto pw = std::make_shared<PackedWeights>();
  pw->kernel = kern;
  pw->n = n;
  pw->k = k;
  const size_t panels = ceil_div(n, kern.nr);
  const size_t panel_stride = kern.b_panel_stride(k);
  QK_FAIL_IF(panel_stride != 0 && panels > (std::numeric_limits<size_t>::max() - kAlign) / panel_stride,
             kOutOfMemory, "packed weights of %zu x %zu do not fit in memory", n, k);
  pw->packed.resize(panels * panel_stride + kAlign);
  pw->packed_offset = static_cast<size_t>(align_up(pw->packed.data()) - pw->packed.data());
  kern.pack_b(w, n, k, ldw, pw->packed.data() + pw->packed_offset);

  pw->col_sum.resize(n);
  for (size_t j = 0; j < n; ++j) {
    int32_t s = 0;  // |s| <= 128 * 65536: exact
    for (size_t i = 0; i < k; ++i) s += w[j * ldw + i];
    pw->col_sum[j] = s;
  }
  pw->per_channel = scale_count == n && n > 1;
  pw->w_scale.assign(n, w_scales[0]);
  if (scale_count == n) pw->w_scale.assign(w_scales, w_scales + n);
  pw->w_zero_point = w_zero_point;
  if (bias_f32) pw->bias_f32.assign(bias_f32, bias_f32 + n);
  if (bias_s32) pw->bias_s32.assign(bias_s32, bias_s32 + n);
  return pw;
}

std::vector<int32_t> gemm_col_offsets(const PackedWeights& w, bool a_signed, int32_t a_zero_point,
                                      const int32_t* bias_q) {
  const uint32_t za = static_cast<uint32_t>(a_zero_point + (a_signed ? 128 : 0));
  const uint32_t k_za_zw = static_cast<uint32_t>(w.k) * za * static_cast<uint32_t>(w.w_zero_point);
  std::vector<int32_t> col(w.n);
  for (size_t j = 0; j < w.n; ++j) {
    uint32_t v = k_za_zw - za * static_cast<uint32_t>(w.col_sum[j]);
    if (bias_q) v += static_cast<uint32_t>(bias_q[j]);
    col[j] = static_cast<int32_t>(v);
  }
  return col;
}

size_t qgemm_scratch_bytes(const PackedWeights& w, size_t m, size_t threads) {
  if (m == 0) return 0;
  const Plan plan = make_plan(w, m, threads);
  // One slot per thread that can claim a task (parallel_for runs a single task inline).
  const size_t slots = plan.row_tasks * plan.col_tasks > 1 ? threads : 1;
  // The slots' sizes are multiples of kAlign, so the row offsets after them stay aligned.
  return slots * plan.scratch_bytes + (w.w_zero_point != 0 ? m * sizeof(int32_t) : 0);
}

void qgemm_run(const PackedWeights& w, size_t m, const uint8_t* a, size_t lda, bool a_signed, int32_t a_zero_point,
               const GemmEpilogue& ep_template, void* out, size_t ldo, ThreadPool* pool, GemmScratch* scratch) {
  (void)a_zero_point;  // its terms are in ep_template.col_offset (gemm_col_offsets)
  if (m == 0) return;
  const size_t threads = pool ? pool->thread_count() : 1;
  const Plan plan = make_plan(w, m, threads);
  const uint8_t xor_mask = a_signed ? 0x80 : 0x00;
  const size_t tasks = plan.row_tasks * plan.col_tasks;
  const size_t slot_bytes = (tasks > 1 ? threads : 1) * plan.scratch_bytes;

  // The one allocation, before anything is written.
  GemmScratch local;
  if (scratch == nullptr) scratch = &local;
  scratch->reserve_bytes(qgemm_scratch_bytes(w, m, threads));

  GemmEpilogue ep = ep_template;
  if (w.w_zero_point != 0) {
    int32_t* row_offset = reinterpret_cast<int32_t*>(scratch->data() + slot_bytes);
    compute_row_offsets(a, m, w.k, lda, xor_mask, w.w_zero_point, row_offset, pool);
    ep.row_offset = row_offset;
  }

  RunContext ctx{&w, &plan, m, a, lda, xor_mask, &ep, static_cast<uint8_t*>(out), ldo,
                 output_element_size(ep.kind), scratch->data()};
  parallel_for(pool, tasks, [&](size_t thread, size_t task) { run_task(ctx, thread, task); });
}

}  // namespace qk
