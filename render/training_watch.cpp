#include "render/training_watch.h"

#include <sys/resource.h>
#include <unistd.h>

#include <SFML/System/Clock.hpp>
#include <stdexcept>

namespace rl::render {

TrainingWatcher::TrainingWatcher(TrainingWatchOptions options, PolicySource policy,
                                 PolicyRefresh refresh)
    : options_(std::move(options)) {
  if (!policy) throw std::invalid_argument("TrainingWatcher: a policy is needed");
  if (options_.max_fps == 0) throw std::invalid_argument("TrainingWatcher: max_fps must be > 0");
  display_.emplace(options_.display_hint);
  thread_ = std::thread(&TrainingWatcher::run, this, std::move(policy), std::move(refresh));
  std::unique_lock lock(mutex_);
  started_.wait(lock, [this] { return start_done_; });
  if (!error_.empty()) {
    const std::string message = error_;
    lock.unlock();
    thread_.join();
    throw std::runtime_error(message);
  }
}

TrainingWatcher::~TrainingWatcher() { close(); }

void TrainingWatcher::close() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

std::string TrainingWatcher::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

void TrainingWatcher::inject(const KeyEvent& event) {
  std::lock_guard lock(mutex_);
  keys_.push_back(event);
}

void TrainingWatcher::fail(const std::string& message) {
  std::lock_guard lock(mutex_);
  if (error_.empty()) error_ = message;
  start_done_ = true;
  started_.notify_all();
}

void TrainingWatcher::run(PolicySource policy, PolicyRefresh refresh) {
  // Best effort: raising the nice value needs no privilege; a failure just keeps the default.
  if (options_.nice_increment > 0)
    (void)::setpriority(
        PRIO_PROCESS, static_cast<id_t>(::gettid()),
        ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())) + options_.nice_increment);
  try {
    std::unique_ptr<LiveSession> session = make_policy_session(options_.live, std::move(policy));
    ViewerOptions viewer_options = options_.viewer;
    viewer_options.vsync = true;
    viewer_options.max_fps = options_.max_fps;
    Viewer viewer(*session, ViewerMode::kWatch, viewer_options);
    display_.reset();  // SFML holds its own connection now.
    open_.store(true);
    {
      std::lock_guard lock(mutex_);
      start_done_ = true;
      started_.notify_all();
    }
    sf::Clock clock;
    while (!stop_.load()) {
      if (refresh) {
        if (std::optional<std::string> label = refresh()) {
          session->set_label(std::move(*label));
          refreshes_.fetch_add(1);
        }
      }
      {
        std::lock_guard lock(mutex_);
        while (!keys_.empty()) {
          viewer.inject(keys_.front());
          keys_.pop_front();
        }
      }
      if (!viewer.tick(clock.restart().asSeconds())) break;
      frames_.fetch_add(1);
      steps_.store(session->steps_taken());
    }
  } catch (const std::exception& e) {
    fail(std::string("watch window: ") + e.what());
  }
  display_.reset();
  open_.store(false);
  std::lock_guard lock(mutex_);
  start_done_ = true;
  started_.notify_all();
}

}  // namespace rl::render
