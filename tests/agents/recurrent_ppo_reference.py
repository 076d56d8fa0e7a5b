#!/usr/bin/python3
"""Independent recurrent PPO on CartPole without velocities: a diagnostic for issue #15.

What it is: a small recurrent PPO written from the published description of SB3-contrib's
RecurrentPPO (rollout, GAE, loss) and RL Zoo's `ppo_lstm` CartPoleNoVel-v1 hyperparameters, on
a NumPy CartPole with rlcade's physics constants (envs/classic/dynamics.cpp) that observes cart
position and pole angle only (classic/cartpole-novel-v1). It exists to tell a defect in
rlcade's recurrent PPO from a difference of recipe: run it beside `rltrain
configs/ppo_lstm_cartpole_novel.yaml` and compare final greedy evaluations. Not used by CI.

The recipe it follows (RL Zoo `hyperparams/ppo_lstm.yml`, CartPoleNoVel-v1):
  8 envs x 32 steps, one minibatch of 256 (whole env sequences), 20 epochs, gamma 0.98,
  GAE lambda 0.8, learning rate and clip range linear from 1e-3 and 0.2 to 0 over 100k steps,
  no entropy bonus, vf_coef 0.5 on SB3's value loss (mean squared error, no 1/2), gradient
  norm clip 0.5, Adam eps 1e-5, `normalize: true` (VecNormalize of observations AND rewards,
  with the algorithm's gamma, clip 10), MlpLstmPolicy with ortho_init=False, ReLU,
  lstm_hidden_size 64, enable_critic_lstm=True, net_arch pi=[64], vf=[64]: the observation
  goes straight into an actor LSTM and a critic LSTM, a 64-unit ReLU layer per head after each.
  Truncated episodes (500 steps) bootstrap V(final observation) into the reward, evaluated from
  the critic's memory after the step. Evaluation: greedy, 10 episodes, observations normalised
  with the training statistics (frozen), memory reset at each episode start.

Switches to bisect against rlcade (each flips one difference to rlcade's current choice):
  --no-reward-norm     observations normalised only (rlcade's shipped config)
  --half-value-loss    0.5 * mean squared error (CleanRL's and rlcade's value loss)
  --rlcade-net         rlcade's layout: a shared 64-unit ReLU layer before both LSTMs, no
                       layer per head after them, orthogonal weights and zero biases

Run (one seed of 100k steps takes 2.5-3 CPU minutes; CPU is shared, so nice it):
  nice -n 10 /usr/bin/python3 tests/agents/recurrent_ppo_reference.py --seed 1
Prints the first update's max |ratio - 1| (0 up to rounding: the re-run reproduces acting), one
line per evaluation (every 20k steps) and a final line `final <seed> <mean>`.
Measured 2026-12-04 (docs/benchmarks.md, Recurrent PPO, fourth round): seeds 1-3 end at 500.
Needs Debian's python3-torch (/usr/bin/python3), nothing from PyPI.
"""

import argparse
import math
import time

import numpy as np
import torch
from torch import nn

# --- CartPole without velocities (rlcade's classic/cartpole-novel-v1) -------------------------

GRAVITY, CART_MASS, POLE_MASS, HALF_LENGTH, FORCE, TAU = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
THETA_LIMIT, X_LIMIT, MAX_STEPS = 12.0 * 2.0 * math.pi / 360.0, 2.4, 500


class CartPoleNoVel:
    """`count` CartPoles stepped together, auto-resetting; observation [x, theta] as float32."""

    def __init__(self, count, rng):
        self.count, self.rng = count, rng
        self.state = np.zeros((count, 4))
        self.elapsed = np.zeros(count, dtype=np.int64)

    def _reset_rows(self, rows):
        self.state[rows] = self.rng.uniform(-0.05, 0.05, size=(len(rows), 4))
        self.elapsed[rows] = 0

    def observe(self):
        return self.state[:, [0, 2]].astype(np.float32)

    def reset(self):
        self._reset_rows(np.arange(self.count))
        return self.observe()

    def step(self, actions):
        """Returns (next observations after auto-reset, rewards, terminated, truncated, final
        observations of the rows that ended)."""
        x, x_dot, theta, theta_dot = self.state.T
        force = np.where(actions == 1, FORCE, -FORCE)
        cos_t, sin_t = np.cos(theta), np.sin(theta)
        total_mass, mass_length = CART_MASS + POLE_MASS, POLE_MASS * HALF_LENGTH
        temp = (force + mass_length * theta_dot**2 * sin_t) / total_mass
        theta_acc = (GRAVITY * sin_t - cos_t * temp) / (
            HALF_LENGTH * (4.0 / 3.0 - POLE_MASS * cos_t**2 / total_mass))
        x_acc = temp - mass_length * theta_acc * cos_t / total_mass
        self.state = np.stack([x + TAU * x_dot, x_dot + TAU * x_acc, theta + TAU * theta_dot,
                               theta_dot + TAU * theta_acc], axis=1)
        self.elapsed += 1
        x, theta = self.state[:, 0], self.state[:, 2]
        terminated = (np.abs(x) > X_LIMIT) | (np.abs(theta) > THETA_LIMIT)
        truncated = (self.elapsed >= MAX_STEPS) & ~terminated
        final = self.observe()
        ended = np.nonzero(terminated | truncated)[0]
        self._reset_rows(ended)
        return self.observe(), np.ones(self.count, np.float32), terminated, truncated, final


# --- VecNormalize's running statistics ---------------------------------------------------------


class RunningMeanStd:
    """Parallel mean/variance (population), starting from count 1e-4, mean 0, variance 1."""

    def __init__(self, shape):
        self.mean, self.var, self.count = np.zeros(shape), np.ones(shape), 1e-4

    def update(self, batch):
        batch_mean, batch_var, batch_count = batch.mean(0), batch.var(0), batch.shape[0]
        delta, total = batch_mean - self.mean, self.count + batch_count
        m2 = self.var * self.count + batch_var * batch_count + delta**2 * self.count * batch_count / total
        self.mean, self.var, self.count = self.mean + delta * batch_count / total, m2 / total, total


class Normalizer:
    """Observations (and optionally rewards by the discounted return's std), clip 10."""

    def __init__(self, count, gamma, rewards):
        self.obs, self.ret = RunningMeanStd((2,)), RunningMeanStd(())
        self.returns, self.gamma, self.rewards = np.zeros(count), gamma, rewards

    def observation(self, obs):
        return np.clip((obs - self.obs.mean) / np.sqrt(self.obs.var + 1e-8), -10, 10).astype(np.float32)

    def reward(self, rewards, ended):
        if not self.rewards:
            return rewards
        self.returns = self.returns * self.gamma + rewards
        self.ret.update(self.returns)
        out = np.clip(rewards / np.sqrt(self.ret.var + 1e-8), -10, 10).astype(np.float32)
        self.returns[ended] = 0
        return out


# --- The policy --------------------------------------------------------------------------------


class RecurrentActorCritic(nn.Module):
    """Actor and critic LSTMs on the observation, a ReLU layer per head, linear heads."""

    def __init__(self, hidden, rlcade_net):
        super().__init__()
        self.hidden, self.rlcade_net = hidden, rlcade_net
        inputs = 2
        if rlcade_net:
            self.torso = nn.Sequential(nn.Linear(2, 64), nn.ReLU())
            inputs = 64
        self.actor_lstm, self.critic_lstm = nn.LSTM(inputs, hidden), nn.LSTM(inputs, hidden)
        head_in = hidden
        if not rlcade_net:
            self.actor_mlp = nn.Sequential(nn.Linear(hidden, 64), nn.ReLU())
            self.critic_mlp = nn.Sequential(nn.Linear(hidden, 64), nn.ReLU())
            head_in = 64
        self.action_head, self.value_head = nn.Linear(head_in, 2), nn.Linear(head_in, 1)
        if rlcade_net:  # rlcade: orthogonal weights, zero biases (torso gain sqrt 2, heads 0.01, 1)
            for name, p in self.named_parameters():
                if "bias" in name:
                    nn.init.zeros_(p)
            nn.init.orthogonal_(self.torso[0].weight, math.sqrt(2))
            for lstm in (self.actor_lstm, self.critic_lstm):
                for name, p in lstm.named_parameters():
                    if "weight" in name:
                        nn.init.orthogonal_(p, 1.0)
            nn.init.orthogonal_(self.action_head.weight, 0.01)
            nn.init.orthogonal_(self.value_head.weight, 1.0)

    def zero_state(self, count):
        z = torch.zeros(1, count, self.hidden)
        return [z.clone(), z.clone(), z.clone(), z.clone()]  # actor h, c, critic h, c

    def sequence(self, obs, state, starts):
        """obs [T, B, 2], state (4 x [1, B, H]) before step 0, starts [T, B] (1: zero the memory
        before that step). Returns logits [T, B, 2], values [T, B], state after the last step."""
        features = self.torso(obs) if self.rlcade_net else obs
        steps = obs.shape[0]
        # Cut the sequence where any env starts an episode; run each piece in one LSTM call.
        cuts = sorted({0} | set(torch.nonzero(starts.any(1)).flatten().tolist())) + [steps]
        actor_h, actor_c, critic_h, critic_c = state
        actor_out, critic_out = [], []
        for begin, end in zip(cuts[:-1], cuts[1:]):
            keep = (1.0 - starts[begin]).view(1, -1, 1)
            out, (actor_h, actor_c) = self.actor_lstm(features[begin:end], (actor_h * keep, actor_c * keep))
            actor_out.append(out)
            out, (critic_h, critic_c) = self.critic_lstm(features[begin:end], (critic_h * keep, critic_c * keep))
            critic_out.append(out)
        actor_features, critic_features = torch.cat(actor_out), torch.cat(critic_out)
        if not self.rlcade_net:
            actor_features, critic_features = self.actor_mlp(actor_features), self.critic_mlp(critic_features)
        logits, values = self.action_head(actor_features), self.value_head(critic_features).squeeze(-1)
        return logits, values, [actor_h, actor_c, critic_h, critic_c]


# --- Training ----------------------------------------------------------------------------------


def evaluate(policy, normalizer, rng, episodes=10):
    env = CartPoleNoVel(1, rng)
    obs, total, returns = env.reset(), 0.0, []
    state, start = policy.zero_state(1), torch.ones(1, 1)
    with torch.no_grad():
        while len(returns) < episodes:
            x = torch.as_tensor(normalizer.observation(obs)).view(1, 1, 2)
            logits, _, state = policy.sequence(x, state, start)
            obs, reward, terminated, truncated, _ = env.step(logits.argmax(-1).view(1).numpy())
            total += reward[0]
            ended = bool(terminated[0] or truncated[0])
            start = torch.full((1, 1), float(ended))
            if ended:
                returns.append(total)
                total = 0.0
    return float(np.mean(returns))


def train(args):
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    envs, steps, gamma, lam = 8, 32, 0.98, 0.8
    policy = RecurrentActorCritic(64, args.rlcade_net)
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-3, eps=1e-5)
    env = CartPoleNoVel(envs, rng)
    normalizer = Normalizer(envs, gamma, rewards=not args.no_reward_norm)
    raw = env.reset()
    normalizer.obs.update(raw)
    obs = normalizer.observation(raw)
    starts_now = np.ones(envs, np.float32)
    state = policy.zero_state(envs)
    done_steps, next_eval, value_scale = 0, args.eval_every, 0.5 if args.half_value_loss else 1.0
    begin = time.process_time()
    while done_steps < args.steps:
        buf_obs = np.zeros((steps, envs, 2), np.float32)
        buf_act, buf_logp, buf_val, buf_rew, buf_start = (np.zeros((steps, envs), np.float32) for _ in range(5))
        first_state = [s.clone() for s in state]
        with torch.no_grad():
            for t in range(steps):
                x = torch.as_tensor(obs).unsqueeze(0)
                logits, values, state = policy.sequence(x, state, torch.as_tensor(starts_now).unsqueeze(0))
                dist = torch.distributions.Categorical(logits=logits[0])
                action = dist.sample()
                raw, reward, terminated, truncated, final = env.step(action.numpy())
                ended = terminated | truncated
                normalizer.obs.update(raw)
                reward = normalizer.reward(reward, ended)
                for i in np.nonzero(truncated)[0]:  # Bootstrap V(final observation) at the time limit.
                    x_final = torch.as_tensor(normalizer.observation(final[i:i + 1])).view(1, 1, 2)
                    one = [s[:, i:i + 1] for s in state]
                    reward[i] += gamma * policy.sequence(x_final, one, torch.zeros(1, 1))[1].item()
                buf_obs[t], buf_act[t], buf_logp[t] = obs, action.numpy(), dist.log_prob(action).numpy()
                buf_val[t], buf_rew[t], buf_start[t] = values[0].numpy(), reward, starts_now
                obs, starts_now = normalizer.observation(raw), ended.astype(np.float32)
            _, last_values, _ = policy.sequence(torch.as_tensor(obs).unsqueeze(0),
                                                [s.clone() for s in state],
                                                torch.as_tensor(starts_now).unsqueeze(0))
        done_steps += steps * envs
        # GAE(lambda): an episode start at t + 1 cuts the bootstrap from t.
        advantages, last_gae = np.zeros((steps, envs), np.float32), 0.0
        for t in reversed(range(steps)):
            if t == steps - 1:
                not_end, next_values = 1.0 - starts_now, last_values[0].numpy()
            else:
                not_end, next_values = 1.0 - buf_start[t + 1], buf_val[t + 1]
            delta = buf_rew[t] + gamma * next_values * not_end - buf_val[t]
            last_gae = delta + gamma * lam * not_end * last_gae
            advantages[t] = last_gae
        returns = advantages + buf_val
        progress = 1.0 - done_steps / args.steps
        for group in optimizer.param_groups:
            group["lr"] = 1e-3 * progress
        clip = 0.2 * progress
        t_obs, t_start = torch.as_tensor(buf_obs), torch.as_tensor(buf_start)
        t_act, t_logp = torch.as_tensor(buf_act).long(), torch.as_tensor(buf_logp)
        t_adv, t_ret = torch.as_tensor(advantages), torch.as_tensor(returns)
        for epoch in range(20):
            logits, values, _ = policy.sequence(t_obs, first_state, t_start)
            log_prob = torch.distributions.Categorical(logits=logits).log_prob(t_act)
            ratio = torch.exp(log_prob - t_logp)
            if epoch == 0 and done_steps == steps * envs:
                print(f"first ratio max |r - 1| {float((ratio - 1).abs().max()):.2e}", flush=True)
            adv = (t_adv - t_adv.mean()) / (t_adv.std() + 1e-8)
            policy_loss = -torch.min(adv * ratio, adv * torch.clamp(ratio, 1 - clip, 1 + clip)).mean()
            value_loss = value_scale * ((t_ret - values) ** 2).mean()
            loss = policy_loss + 0.5 * value_loss
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(policy.parameters(), 0.5)
            optimizer.step()
        if done_steps >= next_eval or done_steps >= args.steps:
            next_eval += args.eval_every
            score = evaluate(policy, normalizer, np.random.default_rng(args.seed + 1000))
            print(f"step {done_steps} eval {score:.1f} cpu {time.process_time() - begin:.1f}s", flush=True)
    print(f"final {args.seed} {score:.1f}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--eval-every", type=int, default=20_000)
    parser.add_argument("--no-reward-norm", action="store_true")
    parser.add_argument("--half-value-loss", action="store_true")
    parser.add_argument("--rlcade-net", action="store_true")
    torch.set_num_threads(1)
    train(parser.parse_args())
