// SPDX-License-Identifier: Apache-2.0
// A small fork-join pool on std::thread. Tasks are claimed one index at a time under a mutex:
// operator tasks are whole output tiles (tens of microseconds at least), so the claim cost is
// noise, and the simple scheme is easy to prove correct. Not Debian's libpthreadpool: Debian ships
// it without a static archive, so a fully static consumer of libquantkit.a could not link, and its
// amd64 and arm64 -dev packages cannot be installed side by side for the cross build.
#include "core/threadpool.h"

#include <unistd.h>

#include <system_error>

#include "core/error.h"

namespace qk {

ThreadPool::ThreadPool(size_t thread_count) {
  const size_t workers = thread_count > 1 ? thread_count - 1 : 0;
  workers_.reserve(workers);
  try {
    for (size_t t = 0; t < workers; ++t) workers_.emplace_back(&ThreadPool::worker_main, this, t + 1);
  } catch (const std::system_error& e) {
    shutdown();  // joins the workers already started
    fail(Status::kOutOfMemory, "could not start %zu worker threads: %s", workers, e.what());
  }
}

ThreadPool::~ThreadPool() { shutdown(); }

void ThreadPool::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_)
    if (t.joinable()) t.join();
  workers_.clear();
}

size_t ThreadPool::default_thread_count() {
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<size_t>(n) : 1;
}

void ThreadPool::drain(size_t thread) {
  for (;;) {
    size_t index;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (next_ >= count_) return;
      index = next_++;
    }
    try {
      task_(context_, thread, index);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }
}

void ThreadPool::worker_main(size_t thread) {
  unsigned long seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    drain(thread);
    std::lock_guard<std::mutex> lock(mutex_);
    if (--pending_workers_ == 0) done_cv_.notify_one();
  }
}

void ThreadPool::run(size_t count, Task task, void* context) {
  std::lock_guard<std::mutex> serialize(run_mutex_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = task;
    context_ = context;
    count_ = count;
    next_ = 0;
    error_ = nullptr;
    pending_workers_ = workers_.size();
    ++generation_;
  }
  work_cv_.notify_all();
  drain(0);
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [&] { return pending_workers_ == 0; });
    error = error_;
    error_ = nullptr;
    task_ = nullptr;
    context_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace qk
