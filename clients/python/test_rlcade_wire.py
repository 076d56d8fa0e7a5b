#!/usr/bin/env python3
"""Tests of the Python client and server helper.

    python3 test_rlcade_wire.py HOST:PORT

HOST:PORT serves test/wire_counter-v0 (the C++ test suite starts it: observation
[steps, last action, episode length], Discrete(3), reward = action, episodes of 3..8 steps).
Without an address only the Python-to-Python tests run.

    RLCADE_POLICY_ADDRESS=HOST:PORT python3 test_rlcade_wire.py

adds the PolicyClient tests (class AgainstPolicyServer) against ``rlserve --policy`` serving a policy for Catch
(examples/catch.py: u8 [10, 5] observations, Discrete(3)); the C++ test suite trains one.
"""

import os
import socket
import struct
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "examples"))
import rlcade_wire as rw  # noqa: E402
from catch import Catch  # noqa: E402

CPP_ADDRESS = None
POLICY_ADDRESS = os.environ.get("RLCADE_POLICY_ADDRESS")


class AgainstCppServer(unittest.TestCase):
    def setUp(self):
        if CPP_ADDRESS is None:
            self.skipTest("no C++ server address given")

    def test_gymnasium_style_episode(self):
        with rw.RemoteEnv(CPP_ADDRESS, timeout=5) as env:
            self.assertEqual(env.spec_id, "test/wire_counter-v0")
            self.assertEqual(env.observation_space.shape, (3,))
            self.assertEqual(env.action_space.n, 3)
            obs, info = env.reset(seed=5)
            self.assertEqual(obs[0], 0.0)
            length = int(obs[2])
            for t in range(1, length + 1):
                obs, reward, terminated, truncated, _ = env.step(2)
                self.assertEqual(reward, 2.0)
                self.assertEqual(obs[0], float(t))  # the final observation at the end
                self.assertEqual(terminated, t == length)
                self.assertFalse(truncated)
            obs2, _ = env.reset(seed=5)
            self.assertEqual(obs2[2], float(length))

    def test_batched_auto_reset_and_errors(self):
        with rw.VectorClient(CPP_ADDRESS, num_envs=3, timeout=5) as client:
            self.assertEqual(client.num_envs, 3)
            batch = client.reset(seed=1)
            self.assertEqual(batch.step_types, [rw.FIRST] * 3)
            finals = 0
            for _ in range(10):
                batch = client.step([0, 1, 2])
                self.assertEqual(batch.rewards, [0.0, 1.0, 2.0])
                for env, kind in enumerate(batch.step_types):
                    if kind == rw.TERMINATED:
                        finals += 1
                        self.assertEqual(batch.final_observations[env][0],
                                         batch.final_observations[env][2])
                        self.assertEqual(batch.observations[env][0], 0.0)
            self.assertGreaterEqual(finals, 3)
            with self.assertRaises(rw.RemoteError) as caught:
                client.step([0, 3, 0])
            self.assertEqual(caught.exception.name, "action_out_of_range")
            self.assertFalse(caught.exception.fatal)
            with self.assertRaises(ValueError):
                client.step([0, 1])
            self.assertEqual(client.step([1, 1, 1]).rewards, [1.0, 1.0, 1.0])
            self.assertEqual(client.ping(b"abc"), b"abc")

    def test_json_observations_match_binary(self):
        with rw.VectorClient(CPP_ADDRESS, num_envs=2, timeout=5) as binary, \
                rw.VectorClient(CPP_ADDRESS, num_envs=2, timeout=5,
                                observation_encoding="json") as js:
            self.assertEqual(binary.reset(3).observations, js.reset(3).observations)
            for _ in range(12):
                a, b = binary.step([2, 1]), js.step([2, 1])
                self.assertEqual(a.observations, b.observations)
                self.assertEqual(a.final_observations, b.final_observations)

    def test_wrong_version_is_refused(self):
        host, port = rw.parse_address(CPP_ADDRESS)
        with socket.create_connection((host, port), timeout=5) as sock:
            conn = rw.FramedSocket(sock)
            conn.send(rw.HELLO, 1, b'{"protocol":"rlcade-wire","version":[7,0]}')
            kind, _, _, body = conn.read(rw.DEFAULT_MAX_BODY, 5)
            self.assertEqual(kind, rw.ERROR)
            self.assertIn(b"version_mismatch", body)


class PythonServer(unittest.TestCase):
    def setUp(self):
        self.server = rw.EnvServer(Catch, port=0, num_envs=2, token="tok",
                                   handshake_timeout=0.5, log=lambda line: None)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.address = f"127.0.0.1:{self.server.port}"

    def tearDown(self):
        self.server.shutdown()
        self.thread.join(5)

    def test_catch_episode_through_python_client(self):
        with rw.RemoteEnv(self.address, token="tok", timeout=5) as env:
            self.assertEqual(env.observation_space.shape, (10, 5))
            obs, _ = env.reset(seed=3)
            self.assertEqual(sum(obs), 2)
            steps, terminated = 0, False
            while not terminated:
                obs, reward, terminated, truncated, _ = env.step(1)
                steps += 1
            self.assertEqual(steps, 9)
            self.assertIn(reward, (-1.0, 1.0))

    def test_token_and_bad_frames(self):
        with self.assertRaises(rw.RemoteError) as caught:
            rw.VectorClient(self.address, token="nope", timeout=5)
        self.assertEqual(caught.exception.name, "unauthorized")
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as sock:
            sock.sendall(b"X" * 16)
            kind, _, _, body = rw.FramedSocket(sock).read(rw.DEFAULT_MAX_BODY, 5)
            self.assertEqual(kind, rw.ERROR)
            self.assertIn(b"bad_frame", body)
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as sock:
            sock.sendall(struct.pack("<IIBBHI", rw.MAGIC, 1 << 30, rw.HELLO, 0, 0, 1))
            kind, _, _, body = rw.FramedSocket(sock).read(rw.DEFAULT_MAX_BODY, 5)
            self.assertIn(b"frame_too_large", body)
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as sock:
            kind, _, _, body = rw.FramedSocket(sock).read(rw.DEFAULT_MAX_BODY, 5)
            self.assertIn(b"timeout", body)  # stalled past the 0.5 s handshake deadline
        with rw.VectorClient(self.address, token="tok", timeout=5) as client:
            client.reset(1)
            self.assertEqual(len(client.step([0, 2]).rewards), 2)


class PolicyServerTests:
    """Run as AgainstPolicyServer, which exists only when RLCADE_POLICY_ADDRESS is set."""

    def setUp(self):
        self.policy = rw.PolicyClient(POLICY_ADDRESS, timeout=5)

    def tearDown(self):
        self.policy.close()

    def boards(self, count):
        games = [Catch() for _ in range(count)]
        return [game.reset(seed) for seed, game in enumerate(games)]

    def test_declares_the_policy(self):
        self.assertEqual(self.policy.observation_space.shape, (10, 5))
        self.assertEqual(self.policy.action_space.n, 3)
        self.assertGreaterEqual(self.policy.max_batch, 64)
        self.assertEqual(self.policy.welcome["version"], [1, 1])
        self.assertIn("legal_actions", self.policy.welcome["capabilities"])

    def test_a_batch_acts_as_its_observations_one_by_one(self):
        boards = self.boards(40)
        batch = self.policy.act(boards)
        self.assertEqual(len(batch), 40)
        self.assertTrue(all(a in (0, 1, 2) for a in batch))
        self.assertEqual(batch, [self.policy.act_one(b) for b in boards])
        self.assertEqual(self.policy.act([list(b) for b in boards[:3]]), batch[:3])

    def test_legal_actions_restrict_the_choice(self):
        boards = self.boards(6)
        legal = [[1 if a == i % 3 else 0 for a in range(3)] for i in range(6)]
        self.assertEqual(self.policy.act(boards, legal), [i % 3 for i in range(6)])

    def test_bad_observations_are_refused_and_the_connection_stays_usable(self):
        with self.assertRaises(ValueError):
            self.policy.act([bytes(49)])  # caught before sending
        conn = self.policy._client
        for body in (rw.encode_tensor(rw.DTYPE_F32, (1, 10, 5), bytes(200)),
                     rw.encode_tensor(rw.DTYPE_U8, (1, 50), bytes(50)),
                     rw.encode_tensor(rw.DTYPE_U8, (1, 10, 5), bytes(50))
                     + rw.encode_tensor(rw.DTYPE_U8, (1, 3), bytes(3))):
            with self.assertRaises(rw.RemoteError) as caught:
                conn._request(rw.ACT, body, rw.ACT_RESULT)
            self.assertEqual(caught.exception.name, "bad_observation")
            self.assertFalse(caught.exception.fatal)
        self.assertEqual(len(self.policy.act(self.boards(2))), 2)
        with self.assertRaises(rw.RemoteError) as caught:
            conn.reset(1)
        self.assertEqual(caught.exception.name, "unsupported")
        self.assertEqual(self.policy.ping(b"x"), b"x")


if POLICY_ADDRESS is not None:
    class AgainstPolicyServer(PolicyServerTests, unittest.TestCase):
        pass


class PolicyClientAgainstEnvServer(unittest.TestCase):
    def test_an_env_server_is_not_a_policy(self):
        server = rw.EnvServer(Catch, port=0, log=lambda line: None)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with self.assertRaises(rw.ProtocolError) as caught:
                rw.PolicyClient(f"127.0.0.1:{server.port}", timeout=5)
            self.assertIn("does not serve a policy", str(caught.exception))
        finally:
            server.shutdown()
            thread.join(5)


if __name__ == "__main__":
    if len(sys.argv) > 1 and ":" in sys.argv[1]:
        CPP_ADDRESS = sys.argv.pop(1)
    unittest.main(verbosity=1)
