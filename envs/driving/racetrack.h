// driving/racetrack-v0 and driving/racetrack_discrete-v0: drive one lap of a procedurally
// generated closed track (a new one every reset unless track_seed fixes it).
//
// Reward per step: 1000 * (progress along the centre line) / (lap length) - time_penalty, so a
// full lap is worth 1000. Leaving the track (car centre farther than half the width from the
// centre line) costs off_track_penalty and terminates; completing the lap terminates.
// Observations: "vector" (ray distances to the track edge, speed, heading error, lateral offset,
// lateral speed, wheel angle, upcoming curvature) or "image" (car-centred, heading-up top view).
#pragma once

#include <cstdint>
#include <vector>

#include "core/env.h"
#include "core/params.h"
#include "envs/driving/car.h"
#include "envs/driving/track.h"

namespace rl::driving {

enum class RaceObservation { kVector, kImage };

struct RacetrackConfig {
  bool discrete = false;
  RaceObservation observation = RaceObservation::kVector;
  int rays = 9;                     // Range finders spread over [-90, 90] degrees.
  double ray_range = 50.0;          // [m]
  int curvature_samples = 5;        // Curvature sampled every curvature_spacing metres ahead.
  double curvature_spacing = 10.0;  // [m]
  int image_size = 64;              // Image observation is channels x size x size.
  int image_channels = 1;           // 1 (grayscale) or 3 (RGB), channels first.
  double image_view = 48.0;         // Metres shown across the image.
  int64_t track_seed = -1;          // >= 0: always this track; -1: a new track every reset.
  double dt = 0.05;                 // Simulation step [s].
  double off_track_penalty = 100.0;
  double time_penalty = 0.1;
  int64_t max_episode_steps = 1000;
  TrackShape shape;
  CarParams car;
};

// Declared parameters shared by both ids, and the config they resolve to.
std::vector<ParamSpec> racetrack_params();
RacetrackConfig racetrack_config(const Params& params, bool discrete);

class Racetrack final : public Env {
 public:
  // Discrete actions of racetrack_discrete-v0 as (steer, pedal).
  static constexpr int kNumDiscreteActions = 5;

  explicit Racetrack(const RacetrackConfig& config);

  const Track& track() const { return track_; }
  const CarState& car() const { return car_; }
  const RacetrackConfig& config() const { return config_; }
  // Distance driven along the track this episode [m] (backwards counts negative).
  double progress() const { return progress_; }
  bool lap_complete() const { return progress_ >= track_.length(); }
  // Current lateral offset from the centre line [m].
  double lateral_offset() const { return location_.offset; }
  // (steer, pedal) applied for a discrete action index.
  static void discrete_controls(int64_t action, double& steer, double& pedal);

 protected:
  void do_reset(ObsBuffer obs) override;
  StepResult do_step(const Action& action, ObsBuffer obs) override;
  void do_render(Image& out) const override;

 private:
  void write_observation(ObsBuffer obs);
  void write_vector(float* out);
  void write_image(uint8_t* out) const;
  double ray_angle(int i) const;
  void push_trail();

  RacetrackConfig config_;
  Track track_;
  CarState car_;
  Track::Location location_;
  double progress_ = 0.0;
  std::vector<Vec2> ray_directions_;  // Unit ray directions in the car frame (x forward).
  std::vector<float> ray_hits_;       // Last ray distances [m], for rendering.
  std::vector<Vec2> trail_;           // Ring buffer of recent car positions.
  size_t trail_next_ = 0, trail_count_ = 0;
};

}  // namespace rl::driving
