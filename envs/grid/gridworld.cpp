#include "envs/grid/gridworld.h"

#include <algorithm>
#include <stdexcept>

namespace rl::grid {
namespace {

// The task's own action set, or its first three (left, right, forward) with `actions: move`.
int action_count(const TaskSpec& task, const Params& params) {
  return params.get_string("actions") == "move" ? std::min(task.num_actions, kNumMoveActions)
                                                : task.num_actions;
}

EnvSpec make_env_spec(const TaskSpec& task, const Params& params, ObsMode mode) {
  EnvSpec spec;
  spec.id = task.id;
  spec.description = task.description;
  spec.observation_space = GridWorld::observation_space(mode, task.width, task.height);
  const int num_actions = action_count(task, params);
  spec.action_space = Space::discrete(num_actions);
  spec.reward_min = task.reward_min;
  spec.reward_max = task.reward_max;
  spec.max_episode_steps = params.get_int("max_episode_steps");
  spec.reward_threshold = task.reward_threshold;
  spec.reports_success = true;  // Every success pays success_reward() and sets result.success.
  static const char* const kNames[kNumGridActions] = {"left", "right",  "forward", "pickup",
                                                      "drop", "toggle", "done"};
  for (int i = 0; i < num_actions; ++i) spec.action_names.push_back(kNames[i]);
  return spec;
}

ObsMode parse_mode(const Params& params) {
  const std::string mode = params.get_string("observation");
  if (mode == "full") return ObsMode::kFull;
  return mode == "onehot" ? ObsMode::kOneHot : ObsMode::kPartial;
}

}  // namespace

std::vector<ParamSpec> grid_task_params(int64_t default_max_steps) {
  return {
      {"observation",
       std::string("partial"),
       "partial: egocentric 7x7 view (4x7x7 u8); full: whole grid (3xHxW u8); onehot: the "
       "partial view's codes one-hot (24x7x7 u8 of 0/1)",
       std::nullopt,
       std::nullopt,
       {"partial", "full", "onehot"}},
      {"actions",
       std::string("all"),
       "all: the task's MiniGrid action set; move: only left, right, forward (actions 0-2)",
       std::nullopt,
       std::nullopt,
       {"all", "move"}},
      {"max_episode_steps",
       default_max_steps,
       "Truncate episodes after this many steps (also the max_steps of the success reward)",
       1.0,
       1e9,
       {}},
  };
}

Space GridWorld::observation_space(ObsMode mode, int width, int height) {
  if (mode == ObsMode::kOneHot)
    return Space::box({kOneHotPlanes, kViewSize, kViewSize}, 0.f, 1.f, DType::kU8);
  if (mode == ObsMode::kPartial) {
    const int plane = kViewSize * kViewSize;
    std::vector<float> high(kPartialPlanes * plane);
    const float plane_high[kPartialPlanes] = {kMaxObjectIndex, kMaxColorIndex, 2, 3};
    for (int c = 0; c < kPartialPlanes; ++c)
      for (int i = 0; i < plane; ++i) high[c * plane + i] = plane_high[c];
    return Space::box({kPartialPlanes, kViewSize, kViewSize}, std::vector<float>(high.size(), 0.f),
                      high, DType::kU8);
  }
  const int plane = width * height;
  std::vector<float> high(3 * plane);
  const float plane_high[3] = {kMaxObjectIndex, kMaxColorIndex, kMaxStateIndex};
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < plane; ++i) high[c * plane + i] = plane_high[c];
  return Space::box({3, height, width}, std::vector<float>(high.size(), 0.f), high, DType::kU8);
}

GridWorld::GridWorld(const TaskSpec& task, const Params& params)
    : Env(make_env_spec(task, params, parse_mode(params))),
      grid_(task.width, task.height),
      mode_(parse_mode(params)),
      see_through_walls_(task.see_through_walls),
      task_max_steps_(task.max_steps) {}

void GridWorld::set_agent(Pos pos, int dir) {
  if (!grid_.contains(pos))
    throw std::invalid_argument(spec().id + ": agent position (" + std::to_string(pos.x) + ", " +
                                std::to_string(pos.y) + ") is outside the grid");
  if (!grid_.at(pos).can_overlap())
    throw std::invalid_argument(spec().id + ": the agent cannot stand on the object at (" +
                                std::to_string(pos.x) + ", " + std::to_string(pos.y) + ")");
  if (dir < 0 || dir > 3)
    throw std::invalid_argument(spec().id + ": agent direction " + std::to_string(dir) +
                                " is not in 0..3");
  agent_pos_ = pos;
  agent_dir_ = dir;
}

Pos GridWorld::front_pos() const {
  return {agent_pos_.x + kDirVec[agent_dir_].x, agent_pos_.y + kDirVec[agent_dir_].y};
}

int GridWorld::rand_int(int lo, int hi) {
  if (hi <= lo)
    throw std::logic_error(spec().id + ": empty random range [" + std::to_string(lo) + ", " +
                           std::to_string(hi) + ")");
  return lo + static_cast<int>(rng().below(static_cast<uint64_t>(hi - lo)));
}

void GridWorld::place_agent(Pos top, Pos size, bool random_dir) {
  agent_pos_ = {-1, -1};
  agent_pos_ = place_obj(Cell::empty(), top, size);
  if (random_dir) agent_dir_ = rand_int(0, 4);
}

float GridWorld::success_reward() const {
  const int64_t max_steps =
      spec().max_episode_steps > 0 ? spec().max_episode_steps : task_max_steps_;
  const double step_count = static_cast<double>(episode_steps() + 1);
  return static_cast<float>(1.0 - 0.9 * (step_count / static_cast<double>(max_steps)));
}

void GridWorld::do_reset(ObsBuffer obs) {
  grid_.clear();
  agent_pos_ = {-1, -1};
  agent_dir_ = 0;
  carrying_ = Cell::empty();
  generate();
  if (!grid_.contains(agent_pos_) || !grid_.at(agent_pos_).can_overlap())
    throw std::logic_error(spec().id + ": generate() left the agent on an invalid cell");
  write_observation(obs);
}

StepResult GridWorld::do_step(const Action& action, ObsBuffer obs) {
  const StepResult result = on_step(action.index);
  write_observation(obs);
  return result;
}

StepResult GridWorld::apply_action(int64_t action) {
  StepResult result;
  const Pos front = front_pos();
  const Cell front_cell = grid_.at_or_wall(front.x, front.y);
  switch (action) {
    case kLeft:
      agent_dir_ = (agent_dir_ + 3) % 4;
      break;
    case kRight:
      agent_dir_ = (agent_dir_ + 1) % 4;
      break;
    case kForward:
      if (front_cell.can_overlap()) agent_pos_ = front;
      if (front_cell.is(Object::kGoal)) {
        result.terminated = true;
        result.success = true;
        result.reward = success_reward();
      } else if (front_cell.is(Object::kLava)) {
        result.terminated = true;
      }
      break;
    case kPickup:
      if (front_cell.can_pickup() && carrying_.is_empty()) {
        carrying_ = front_cell;
        grid_.set(front, Cell::empty());
      }
      break;
    case kDrop:
      if (grid_.contains(front) && front_cell.is_empty() && !carrying_.is_empty()) {
        grid_.set(front, carrying_);
        carrying_ = Cell::empty();
      }
      break;
    case kToggle:
      if (grid_.contains(front)) toggle_front(front);
      break;
    default:  // kDone: no effect.
      break;
  }
  return result;
}

void GridWorld::toggle_front(Pos front) {
  Cell& cell = grid_.at(front);
  if (cell.is(Object::kDoor)) {
    if (cell.door_state() == DoorState::kLocked) {
      if (carrying_.is(Object::kKey) && carrying_.color == cell.color)
        cell.state = static_cast<uint8_t>(DoorState::kOpen);
    } else {
      cell.state = static_cast<uint8_t>(cell.door_state() == DoorState::kOpen ? DoorState::kClosed
                                                                              : DoorState::kOpen);
    }
  } else if (cell.is(Object::kBox)) {
    cell = cell.box_content();
  }
}

Pos GridWorld::view_to_world(int vx, int vy) const {
  const Pos f = kDirVec[agent_dir_];
  const Pos r{-f.y, f.x};  // The agent's right.
  const int ahead = kViewSize - 1 - vy, side = vx - kViewSize / 2;
  return {agent_pos_.x + f.x * ahead + r.x * side, agent_pos_.y + f.y * ahead + r.y * side};
}

void GridWorld::compute_view(View& view) const {
  constexpr int n = kViewSize;
  for (int vy = 0; vy < n; ++vy)
    for (int vx = 0; vx < n; ++vx) {
      const Pos p = view_to_world(vx, vy);
      view.cells[vy][vx] = grid_.at_or_wall(p.x, p.y);
      view.visible[vy][vx] = see_through_walls_;
    }
  if (see_through_walls_) return;
  // MiniGrid's process_vis: sweep rows from the agent's row away from it; within a row, light
  // spreads sideways and one row further through every visible see-through cell, first
  // left-to-right then right-to-left (so it can bend around corners the same way).
  auto& vis = view.visible;
  vis[n - 1][n / 2] = true;
  for (int vy = n - 1; vy >= 0; --vy) {
    for (int vx = 0; vx < n - 1; ++vx) {
      if (!vis[vy][vx] || !view.cells[vy][vx].see_behind()) continue;
      vis[vy][vx + 1] = true;
      if (vy > 0) vis[vy - 1][vx + 1] = vis[vy - 1][vx] = true;
    }
    for (int vx = n - 1; vx >= 1; --vx) {
      if (!vis[vy][vx] || !view.cells[vy][vx].see_behind()) continue;
      vis[vy][vx - 1] = true;
      if (vy > 0) vis[vy - 1][vx - 1] = vis[vy - 1][vx] = true;
    }
  }
}

void GridWorld::write_observation(ObsBuffer obs) const {
  switch (mode_) {
    case ObsMode::kPartial:
      write_partial(obs.data());
      break;
    case ObsMode::kFull:
      write_full(obs.data());
      break;
    case ObsMode::kOneHot:
      write_one_hot(obs.data());
      break;
  }
}

void GridWorld::write_partial(uint8_t* out) const {
  constexpr int n = kViewSize, plane = n * n;
  View view;
  compute_view(view);
  view.cells[n - 1][n / 2] = carrying_;
  view.visible[n - 1][n / 2] = true;
  for (int vy = 0; vy < n; ++vy)
    for (int vx = 0; vx < n; ++vx) {
      const int i = vy * n + vx;
      const Cell& c = view.cells[vy][vx];
      const bool seen = view.visible[vy][vx];
      out[i] = seen ? static_cast<uint8_t>(c.type) : 0;
      out[plane + i] = seen && !c.is_empty() ? static_cast<uint8_t>(c.color) : 0;
      out[2 * plane + i] = seen ? c.state : 0;
      out[3 * plane + i] = static_cast<uint8_t>(agent_dir_);
    }
}

void GridWorld::write_one_hot(uint8_t* out) const {
  constexpr int plane = kViewSize * kViewSize;
  uint8_t codes[kPartialPlanes * plane];
  write_partial(codes);
  std::fill_n(out, kOneHotPlanes * plane, uint8_t{0});
  const int first_plane[kPartialPlanes] = {kOneHotObject, kOneHotColor, kOneHotState,
                                           kOneHotDirection};
  for (int code = 0; code < kPartialPlanes; ++code)
    for (int i = 0; i < plane; ++i)
      out[(first_plane[code] + codes[code * plane + i]) * plane + i] = 1;
}

void GridWorld::write_full(uint8_t* out) const {
  const int w = grid_.width(), h = grid_.height(), plane = w * h;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const int i = y * w + x;
      const Cell& c = grid_.at(x, y);
      out[i] = static_cast<uint8_t>(c.type);
      out[plane + i] = c.is_empty() ? 0 : static_cast<uint8_t>(c.color);
      out[2 * plane + i] = c.state;
    }
  const int a = agent_pos_.y * w + agent_pos_.x;
  out[a] = static_cast<uint8_t>(Object::kAgent);
  out[plane + a] = static_cast<uint8_t>(Color::kRed);
  out[2 * plane + a] = static_cast<uint8_t>(agent_dir_);
}

}  // namespace rl::grid
