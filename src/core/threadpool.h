// SPDX-License-Identifier: Apache-2.0
// The worker pool behind qk_threadpool: a fixed set of threads that run one parallel-for at a
// time. Work is split into indexed tasks whose results never depend on which thread ran them,
// so operator outputs are the same for every thread count.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace qk {

class ThreadPool {
 public:
  // Task body: `thread` is in [0, thread_count()) (the caller is 0), `index` in [0, count).
  using Task = void (*)(void* context, size_t thread, size_t index);

  // `thread_count` threads in total, including the caller (>= 1). Throws qk::Error
  // kOutOfMemory if the system refuses to start the workers.
  explicit ThreadPool(size_t thread_count);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t thread_count() const { return workers_.size() + 1; }

  // Runs task(context, thread, i) for every i in [0, count) and returns when all are done.
  // Concurrent calls on one pool are serialized. An exception thrown by a task is rethrown here
  // (the first one; remaining tasks still run). A task must not call run() on its own pool (that
  // would wait for itself): nested work runs inline (pass a null pool down).
  void run(size_t count, Task task, void* context);

  // Online CPU cores (>= 1): the meaning of thread_count 0 in the C API.
  static size_t default_thread_count();

 private:
  void worker_main(size_t thread);
  void shutdown();
  void drain(size_t thread);

  std::vector<std::thread> workers_;
  std::mutex run_mutex_;  // one run at a time
  std::mutex mutex_;      // guards everything below
  std::condition_variable work_cv_, done_cv_;
  bool stop_ = false;
  unsigned long generation_ = 0;
  size_t pending_workers_ = 0;
  Task task_ = nullptr;
  void* context_ = nullptr;
  size_t count_ = 0;
  size_t next_ = 0;  // next unclaimed index
  std::exception_ptr error_;
};

// Runs fn(thread, index) for index in [0, count) on `pool`, or inline on the caller (thread 0)
// when pool is null or there is nothing to share.
template <typename Fn>
void parallel_for(ThreadPool* pool, size_t count, Fn&& fn) {
  if (pool == nullptr || pool->thread_count() == 1 || count <= 1) {
    for (size_t i = 0; i < count; ++i) fn(size_t(0), i);
    return;
  }
  pool->run(
      count, [](void* ctx, size_t thread, size_t index) { (*static_cast<Fn*>(ctx))(thread, index); },
      const_cast<void*>(static_cast<const void*>(&fn)));
}

}  // namespace qk

// The C handle (opaque in quantkit.h). Every operator's C shim unwraps it as
// `pool ? &pool->pool : nullptr` and passes the qk::ThreadPool* to the driver.
struct qk_threadpool {
  explicit qk_threadpool(size_t thread_count) : pool(thread_count) {}
  qk::ThreadPool pool;
};
