"""rlcade wire protocol in pure Python (standard library only).

Two halves, both described in docs/protocol.md:

* Clients: ``RemoteEnv`` (Gymnasium-style ``reset()/step()`` on one served env),
  ``VectorClient`` (all N envs of a connection stepped together) and ``PolicyClient`` (a
  policy served by ``rlserve --policy``: observations in, actions out, in batches).
* Servers: ``EnvServer`` turns any class with ``reset(seed)`` and ``step(action)`` into a
  served env, one thread per connection, each connection with its own env instances.

Observations travel as raw little-endian bytes; in Python they are flat lists (row-major,
``numel`` values) whose shape is ``observation_space.shape``.
"""

from __future__ import annotations

import hmac
import json
import math
import socket
import struct
import sys
import threading
import time
from array import array
from typing import Callable, List, Optional, Sequence, Tuple

MAGIC = 0x57434C52  # the bytes "RLCW"
VERSION = (1, 1)  # 1.1 added ACT / ACT_RESULT and the bad_observation error
HEADER = struct.Struct("<IIBBHI")  # magic, body_bytes, type, flags, reserved, request_id
DEFAULT_MAX_BODY = 64 << 20
MIN_MAX_BODY = 64 << 10
MAX_HELLO = 64 << 10
MAX_PING = 1024
FLAG_JSON_BODY = 1

HELLO, WELCOME, RESET, STEP, STEP_RESULT, ERROR, PING, PONG, CLOSE, ACT, ACT_RESULT = range(1, 12)
MESSAGE_NAMES = {1: "HELLO", 2: "WELCOME", 3: "RESET", 4: "STEP", 5: "STEP_RESULT",
                 6: "ERROR", 7: "PING", 8: "PONG", 9: "CLOSE", 10: "ACT", 11: "ACT_RESULT"}

ERROR_NAMES = {1: "bad_frame", 2: "frame_too_large", 3: "bad_message", 4: "bad_json",
               5: "version_mismatch", 6: "unauthorized", 7: "bad_action",
               8: "action_out_of_range", 9: "invalid_state", 10: "env_failure", 11: "timeout",
               12: "unsupported", 13: "busy", 14: "internal", 15: "bad_observation"}
ERROR_CODES = {name: code for code, name in ERROR_NAMES.items()}

FIRST, MID, TERMINATED, TRUNCATED = range(4)
DTYPE_U8, DTYPE_I64, DTYPE_F32 = 1, 2, 3
DTYPE_CODES = {"u8": DTYPE_U8, "f32": DTYPE_F32}
ARRAY_TYPECODE = {DTYPE_U8: "B", DTYPE_I64: "q", DTYPE_F32: "f"}
DTYPE_SIZE = {DTYPE_U8: 1, DTYPE_I64: 8, DTYPE_F32: 4}

if sys.byteorder != "little":  # the codec copies machine arrays as they are
    raise ImportError("rlcade_wire needs a little-endian machine")


class ProtocolError(Exception):
    """Something on the wire broke the protocol; ``code`` is the ERROR code to report."""

    def __init__(self, code: str, message: str, fatal: bool):
        super().__init__(message)
        self.code, self.message, self.fatal = code, message, fatal


class RemoteError(Exception):
    """The peer answered with an ERROR frame."""

    def __init__(self, code: int, message: str, fatal: bool):
        super().__init__(f"peer reported {ERROR_NAMES.get(code, code)}"
                         f"{' (fatal)' if fatal else ''}: {message}")
        self.code, self.name, self.message, self.fatal = code, ERROR_NAMES.get(code, "?"), message, fatal


# ---- spaces ---------------------------------------------------------------------------------

class Discrete:
    """Actions 0..n-1."""

    def __init__(self, n: int):
        if n < 1:
            raise ValueError("Discrete needs n >= 1")
        self.n = int(n)

    def to_json(self):
        return {"kind": "discrete", "n": self.n}

    def __repr__(self):
        return f"Discrete({self.n})"


class Box:
    """Elements of ``dtype`` ('u8' or 'f32') with ``shape`` and per-element bounds."""

    def __init__(self, shape: Sequence[int], low, high, dtype: str = "f32"):
        if dtype not in DTYPE_CODES:
            raise ValueError(f"Box dtype must be 'u8' or 'f32', got {dtype!r}")
        self.shape = tuple(int(d) for d in shape)
        if not self.shape or any(d < 1 for d in self.shape):
            raise ValueError(f"Box shape must have positive dimensions, got {shape}")
        self.dtype = dtype
        self.numel = math.prod(self.shape)
        self.low = _bounds(low, self.numel)
        self.high = _bounds(high, self.numel)
        if any(lo > hi for lo, hi in zip(self.low, self.high)):
            raise ValueError("Box low > high")

    def to_json(self):
        def enc(values):
            values = [_bound_json(v) for v in values]
            return values[0] if all(v == values[0] for v in values) else values
        return {"kind": "box", "dtype": self.dtype, "shape": list(self.shape),
                "low": enc(self.low), "high": enc(self.high)}

    def contains(self, values) -> bool:
        return len(values) == self.numel and all(
            lo <= v <= hi for v, lo, hi in zip(values, self.low, self.high))

    def __repr__(self):
        return f"Box({self.dtype}, {list(self.shape)})"


def _bounds(value, numel):
    if isinstance(value, (int, float, str)):
        return [_bound_value(value)] * numel
    values = [_bound_value(v) for v in value]
    if len(values) != numel:
        raise ValueError(f"bounds list has {len(values)} entries for {numel} elements")
    return values


def _bound_value(v):
    if v == "inf":
        return math.inf
    if v == "-inf":
        return -math.inf
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"bound {v!r} is not a number")
    return float(v)


def _bound_json(v):
    return ("inf" if v > 0 else "-inf") if math.isinf(v) else v


def space_from_json(obj):
    if not isinstance(obj, dict) or obj.get("kind") not in ("discrete", "box"):
        raise ProtocolError("bad_message", "space must be an object with kind discrete or box", True)
    if obj["kind"] == "discrete":
        return Discrete(obj["n"])
    return Box(obj["shape"], obj["low"], obj["high"], obj["dtype"])


# ---- frames and tensors ---------------------------------------------------------------------

def parse_address(address: str) -> Tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"address {address!r} must be host:port, e.g. 127.0.0.1:7000")
    return host.strip("[]"), int(port)


def frame_bytes(msg_type: int, request_id: int, body: bytes = b"", flags: int = 0) -> bytes:
    return HEADER.pack(MAGIC, len(body), msg_type, flags, 0, request_id) + body


class FramedSocket:
    """A socket speaking frames: whole-frame writes, size-checked reads, per-read deadlines."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._header = bytearray(HEADER.size)

    def send(self, msg_type: int, request_id: int, body: bytes = b"", flags: int = 0):
        self.sock.sendall(frame_bytes(msg_type, request_id, body, flags))

    def _read_into(self, view: memoryview, started: bool):
        while len(view):
            got = self.sock.recv_into(view)
            if got == 0:
                raise ConnectionError("connection closed by the peer" +
                                      (" in the middle of a frame" if started else ""))
            view = view[got:]
            started = True

    def read(self, max_body: int, timeout: Optional[float] = None, body_timeout=None):
        """Returns (type, flags, request_id, body). Raises ProtocolError on bad framing,
        ConnectionError on EOF and socket.timeout when a deadline passes."""
        self.sock.settimeout(timeout)
        self._read_into(memoryview(self._header), False)
        magic, size, msg_type, flags, reserved, request_id = HEADER.unpack(self._header)
        if magic != MAGIC:
            raise ProtocolError("bad_frame", "frame does not start with the magic bytes 'RLCW'", True)
        if reserved:
            raise ProtocolError("bad_frame", "frame header reserved bytes are not zero", True)
        if size > max_body:
            raise ProtocolError("frame_too_large",
                                f"{MESSAGE_NAMES.get(msg_type, msg_type)} frame declares a body of "
                                f"{size} bytes, above the limit of {max_body}", True)
        body = bytearray(size)
        if body_timeout is not None:
            self.sock.settimeout(body_timeout)
        self._read_into(memoryview(body), True)
        return msg_type, flags, request_id, body

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def encode_tensor(dtype: int, dims: Sequence[int], data: bytes) -> bytes:
    return struct.pack(f"<BBH{len(dims)}I", dtype, len(dims), 0, *dims) + data


def decode_tensor(body, offset: int):
    """Returns (dtype, dims, memoryview of the data, next offset)."""
    if len(body) - offset < 4:
        raise ProtocolError("bad_message", "tensor header truncated", False)
    dtype, rank, reserved = struct.unpack_from("<BBH", body, offset)
    if dtype not in DTYPE_SIZE or rank > 8 or reserved:
        raise ProtocolError("bad_message", f"tensor has dtype code {dtype} and rank {rank}", False)
    if len(body) - offset < 4 + 4 * rank:
        raise ProtocolError("bad_message", "tensor dims truncated", False)
    dims = struct.unpack_from(f"<{rank}I", body, offset + 4)
    start = offset + 4 + 4 * rank
    size = DTYPE_SIZE[dtype] * math.prod(dims)
    if size > len(body) - start:
        raise ProtocolError("bad_message", f"tensor data truncated", False)
    return dtype, dims, memoryview(body)[start:start + size], start + size


# ---- client ---------------------------------------------------------------------------------

class StepBatch:
    """One reply for all envs: step_types, rewards, observations (one flat list per env) and
    final_observations ({env index: flat list} for envs whose episode just ended)."""

    __slots__ = ("step_types", "rewards", "observations", "final_observations")

    def __init__(self, step_types, rewards, observations, final_observations):
        self.step_types, self.rewards = step_types, rewards
        self.observations, self.final_observations = observations, final_observations


class VectorClient:
    """All envs of one connection, stepped together."""

    def __init__(self, address: str, num_envs: int = 0, token: str = "", timeout: float = 10.0,
                 observation_encoding: str = "binary", max_body: int = DEFAULT_MAX_BODY,
                 sock: Optional[socket.socket] = None):
        self.timeout, self.max_body = timeout, max_body
        if sock is None:
            host, port = parse_address(address)
            sock = socket.create_connection((host, port), timeout=timeout)
        self._conn = FramedSocket(sock)
        self._request_id = 0
        hello = {"protocol": "rlcade-wire", "version": list(VERSION), "max_body_bytes": max_body,
                 "observation_encoding": observation_encoding,
                 "capabilities": ["final_observation"], "client": "rlcade_wire.py"}
        if token:
            hello["token"] = token
        if num_envs:
            hello["num_envs"] = num_envs
        _, body = self._request(HELLO, json.dumps(hello).encode(), WELCOME)
        welcome = json.loads(body)
        if welcome.get("version", [0])[0] != VERSION[0]:
            raise ProtocolError("version_mismatch", f"server speaks version {welcome.get('version')}", True)
        self.welcome = welcome
        self.env_id = welcome["env_id"]
        self.num_envs = welcome["num_envs"]
        self.observation_space = space_from_json(welcome["observation_space"])
        self.action_space = space_from_json(welcome["action_space"])
        self.reward_range = tuple(_bound_value(v) for v in welcome.get("reward_range", [-math.inf, math.inf]))
        self.max_episode_steps = welcome.get("max_episode_steps", 0)
        obs = self.observation_space
        self._obs_code = ARRAY_TYPECODE[DTYPE_CODES[obs.dtype]]
        self._obs_bytes = obs.numel * DTYPE_SIZE[DTYPE_CODES[obs.dtype]]
        if isinstance(self.action_space, Discrete):
            self._action_prefix = struct.pack("<BBHI", DTYPE_I64, 1, 0, self.num_envs)
        else:
            dims = (self.num_envs,) + self.action_space.shape
            self._action_prefix = struct.pack(f"<BBH{len(dims)}I", DTYPE_F32, len(dims), 0, *dims)

    def _request(self, msg_type: int, body: bytes, expect: int):
        self._request_id = (self._request_id + 1) & 0xFFFFFFFF
        self._conn.send(msg_type, self._request_id, body)
        reply_type, flags, reply_id, reply = self._conn.read(self.max_body, self.timeout)
        if reply_type == ERROR:
            err = json.loads(reply)
            if err.get("fatal"):
                self._conn.close()
            raise RemoteError(err.get("code", 0), err.get("message", ""), bool(err.get("fatal")))
        if reply_type != expect or reply_id != self._request_id:
            raise ProtocolError("bad_message", f"expected {MESSAGE_NAMES[expect]} for request "
                                f"{self._request_id}, got {MESSAGE_NAMES.get(reply_type, reply_type)} "
                                f"for {reply_id}", True)
        return flags, reply

    def _batch(self, flags, body) -> StepBatch:
        if flags & FLAG_JSON_BODY:
            obj = json.loads(body)
            finals = iter(obj["final_observations"])
            types = obj["step_types"]
            return StepBatch(types, obj["rewards"], obj["observations"],
                             {i: next(finals) for i, t in enumerate(types) if t >= TERMINATED})
        n, num_final = struct.unpack_from("<II", body, 0)
        if n != self.num_envs:
            raise ProtocolError("bad_message", f"STEP_RESULT for {n} envs, expected {self.num_envs}", True)
        types = list(body[8:8 + n])
        rewards_at = 8 + ((n + 3) & ~3)
        rewards = list(memoryview(body)[rewards_at:rewards_at + 4 * n].cast("f"))
        _, dims, data, offset = decode_tensor(body, rewards_at + 4 * n)
        _, fdims, fdata, _ = decode_tensor(body, offset)
        if len(data) != n * self._obs_bytes or len(fdata) != num_final * self._obs_bytes:
            raise ProtocolError("bad_message", f"observations {dims} do not match "
                                f"{self.observation_space}", True)
        values = data.cast(self._obs_code).tolist()
        k = self.observation_space.numel
        observations = [values[i * k:(i + 1) * k] for i in range(n)]
        finals = {}
        if num_final:
            fvalues = fdata.cast(self._obs_code).tolist()
            ended = [i for i, t in enumerate(types) if t >= TERMINATED]
            finals = {env: fvalues[j * k:(j + 1) * k] for j, env in enumerate(ended)}
        return StepBatch(types, rewards, observations, finals)

    def reset(self, seed: Optional[int] = None) -> StepBatch:
        body = struct.pack("<IIQ", 1 if seed is not None else 0, 0, (seed or 0) & (2**64 - 1))
        return self._batch(*self._request(RESET, body, STEP_RESULT))

    def step(self, actions: Sequence) -> StepBatch:
        """One action per env: ints (Discrete) or numel floats each (Box; nested or flat)."""
        if len(actions) != self.num_envs and not (
                isinstance(self.action_space, Box)
                and len(actions) == self.num_envs * self.action_space.numel):
            raise ValueError(f"step needs actions for {self.num_envs} envs, got {len(actions)}")
        if isinstance(self.action_space, Discrete):
            data = array("q", actions).tobytes()
        else:
            flat = [float(v) for row in actions for v in row] if actions and isinstance(
                actions[0], (list, tuple)) else [float(v) for v in actions]
            data = array("f", flat).tobytes()
        return self._batch(*self._request(STEP, self._action_prefix + data, STEP_RESULT))

    def ping(self, payload: bytes = b"ping") -> bytes:
        return bytes(self._request(PING, payload, PONG)[1])

    def close(self):
        try:
            self._request(CLOSE, b"", CLOSE)
        except (OSError, ConnectionError, ProtocolError, RemoteError):
            pass
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _OneConnection:
    """Closing and ``with`` support for the clients built on one VectorClient (``_client``)."""

    _client: "VectorClient"

    def close(self):
        self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RemoteEnv(_OneConnection):
    """One served env with Gymnasium's API: reset() -> (obs, info) and
    step(action) -> (obs, reward, terminated, truncated, info). After an episode ends, call
    reset() as with any Gymnasium env."""

    def __init__(self, address: str, token: str = "", timeout: float = 10.0, **kwargs):
        self._client = VectorClient(address, num_envs=1, token=token, timeout=timeout, **kwargs)
        self.observation_space = self._client.observation_space
        self.action_space = self._client.action_space
        self.reward_range = self._client.reward_range
        self.spec_id = self._client.env_id

    def reset(self, seed: Optional[int] = None):
        batch = self._client.reset(seed)
        return batch.observations[0], {}

    def step(self, action):
        batch = self._client.step([action] if isinstance(self.action_space, Discrete) else action)
        kind = batch.step_types[0]
        obs = batch.final_observations[0] if kind >= TERMINATED else batch.observations[0]
        return obs, batch.rewards[0], kind == TERMINATED, kind == TRUNCATED, {}



class PolicyClient(_OneConnection):
    """A policy served by ``rlserve --policy`` (protocol 1.1): observations in, the policy's
    greedy actions out, many per round trip.

    ``act(observations, legal=None)`` takes a list of observations (each a flat sequence of
    ``observation_space.numel`` numbers, or bytes for u8 spaces) and, for Discrete action
    spaces, optional legal-action masks (one sequence of n truthy/falsy values per observation).
    It returns one action per observation: ints (Discrete) or flat lists of floats (Box).
    ``act_one(observation, legal=None)`` acts on one. A bad observation raises RemoteError
    (name ``bad_observation``) and the connection stays usable.
    """

    def __init__(self, address: str, token: str = "", timeout: float = 10.0,
                 max_body: int = DEFAULT_MAX_BODY, sock: Optional[socket.socket] = None):
        self._client = VectorClient(address, token=token, timeout=timeout, max_body=max_body,
                                    sock=sock)
        welcome = self._client.welcome
        if "act" not in welcome.get("capabilities", []) or not welcome.get("max_act_batch"):
            self._client.close()
            raise ProtocolError("unsupported", f"{address} does not serve a policy (its WELCOME "
                                "has no \"act\" capability)", True)
        self.welcome = welcome
        self.env_id = welcome["env_id"]
        self.observation_space = self._client.observation_space
        self.action_space = self._client.action_space
        self.max_batch = welcome["max_act_batch"]
        obs = self.observation_space
        self._obs_dtype = DTYPE_CODES[obs.dtype]
        self._obs_code = ARRAY_TYPECODE[self._obs_dtype]
        self._obs_bytes = obs.numel * DTYPE_SIZE[self._obs_dtype]

    def _observation_bytes(self, observation) -> bytes:
        if self._obs_dtype == DTYPE_U8 and isinstance(observation, (bytes, bytearray, memoryview)):
            data = bytes(observation)
        else:
            data = array(self._obs_code, observation).tobytes()
        if len(data) != self._obs_bytes:
            raise ValueError(f"an observation has {len(data)} bytes, expected {self._obs_bytes} "
                             f"({self.observation_space})")
        return data

    def act(self, observations: Sequence, legal: Optional[Sequence] = None) -> list:
        n = len(observations)
        if not 1 <= n <= self.max_batch:
            raise ValueError(f"act takes 1 to {self.max_batch} observations, got {n}")
        data = b"".join(self._observation_bytes(o) for o in observations)
        body = encode_tensor(self._obs_dtype, (n,) + self.observation_space.shape, data)
        if legal is not None:
            if not isinstance(self.action_space, Discrete) or len(legal) != n:
                raise ValueError("legal needs a Discrete action space and one mask per observation")
            mask = b"".join(bytes(1 if x else 0 for x in row) for row in legal)
            if len(mask) != n * self.action_space.n:
                raise ValueError(f"each legal-action mask needs {self.action_space.n} entries")
            body += encode_tensor(DTYPE_U8, (n, self.action_space.n), mask)
        _, reply = self._client._request(ACT, body, ACT_RESULT)
        dtype, dims, values, end = decode_tensor(reply, 0)
        if isinstance(self.action_space, Discrete):
            expected = (DTYPE_I64, (n,))
        else:
            expected = (DTYPE_F32, (n,) + self.action_space.shape)
        if (dtype, tuple(dims)) != expected or end != len(reply):
            raise ProtocolError("bad_message", f"ACT_RESULT holds a tensor of dtype {dtype} and "
                                f"shape {dims}, expected {expected}", True)
        if isinstance(self.action_space, Discrete):
            return values.cast("q").tolist()
        flat = values.cast("f").tolist()
        k = self.action_space.numel
        return [flat[i * k:(i + 1) * k] for i in range(n)]

    def act_one(self, observation, legal: Optional[Sequence] = None):
        return self.act([observation], None if legal is None else [legal])[0]

    def ping(self, payload: bytes = b"ping") -> bytes:
        return self._client.ping(payload)


# ---- server ---------------------------------------------------------------------------------

class EnvServer:
    """Serves envs built by ``make_env()`` over the wire protocol.

    The env class declares ``observation_space`` (a Box), ``action_space`` (Discrete or Box)
    and optionally ``env_id``, ``reward_range`` and ``max_episode_steps``; it implements
    ``reset(seed) -> obs`` (seed is an int, or None to continue its own random stream) and
    ``step(action) -> (obs, reward, terminated, truncated)`` where obs is a flat sequence of
    numel numbers and action an int (Discrete) or a list of floats (Box). The server validates
    actions, auto-resets finished episodes and answers bad input with ERROR frames.
    """

    def __init__(self, make_env: Callable, host: str = "127.0.0.1", port: int = 0,
                 num_envs: int = 1, token: str = "", max_connections: int = 64,
                 max_envs_per_connection: int = 256, handshake_timeout: float = 5.0,
                 idle_timeout: float = 60.0, read_timeout: float = 5.0, log=None):
        self.make_env = make_env
        probe = make_env()
        self.obs_space, self.action_space = probe.observation_space, probe.action_space
        if not isinstance(self.obs_space, Box):
            raise ValueError("observation_space must be a Box")
        self.env_id = getattr(probe, "env_id", type(probe).__name__)
        self.reward_range = getattr(probe, "reward_range", (-1e9, 1e9))
        self.max_episode_steps = getattr(probe, "max_episode_steps", 0)
        self.num_envs, self.token = num_envs, token
        self.max_connections, self.max_envs = max_connections, max_envs_per_connection
        self.handshake_timeout, self.idle_timeout = handshake_timeout, idle_timeout
        self.read_timeout = read_timeout
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._listener = socket.create_server((host, port), reuse_port=False)
        self.host, self.port = host, self._listener.getsockname()[1]
        self._slots = threading.BoundedSemaphore(max_connections)
        self._stopping = threading.Event()

    def serve_forever(self):
        self._listener.settimeout(0.2)
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            busy = not self._slots.acquire(blocking=False)
            threading.Thread(target=self._serve, args=(sock, busy), daemon=True).start()

    def connect(self, address: str, timeout: float = 10.0):
        """Reverse mode: connects to a listening trainer (retrying for up to `timeout` seconds
        while it is not listening yet) and serves that one connection."""
        host, port = parse_address(address)
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((host, port), timeout=timeout)
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._slots.acquire()
        self._serve(sock, False)

    def shutdown(self):
        self._stopping.set()
        self._listener.close()

    def _serve(self, sock, busy):
        try:
            _Session(self, FramedSocket(sock)).run(busy)
        finally:
            if not busy:
                self._slots.release()


class _Session:
    def __init__(self, server: EnvServer, conn: FramedSocket):
        self.server, self.conn = server, conn
        self.envs: List = []
        self.started = self.ever_reset = False
        self.json_obs = False
        self.limit = MAX_HELLO

    def run(self, busy: bool):
        server = self.server
        try:
            if busy:
                raise ProtocolError("busy", f"server is at its limit of {server.max_connections} "
                                    "connections", True)
            timeout = server.handshake_timeout
            while True:
                try:
                    msg_type, flags, request_id, body = self.conn.read(
                        self.limit, timeout, server.read_timeout)
                except socket.timeout:
                    raise ProtocolError("timeout", "no complete request arrived in time", True)
                except ConnectionError:
                    return
                self.request_id = request_id
                try:
                    if self.handle(msg_type, body):
                        return
                except (ValueError, struct.error) as e:  # a body that does not decode
                    error = ProtocolError("bad_message", str(e), False)
                    if not self.envs:
                        raise ProtocolError(error.code, error.message, True)
                    self.send_error(error)
                except ProtocolError as e:
                    if e.fatal or not self.envs:
                        raise ProtocolError(e.code, e.message, True)
                    self.send_error(e)
                timeout = server.idle_timeout
        except ProtocolError as e:
            self.send_error(e)
            self.linger()
        except OSError:
            pass
        finally:
            self.conn.close()

    def send_error(self, e: ProtocolError):
        body = json.dumps({"code": ERROR_CODES[e.code], "name": e.code, "message": e.message,
                           "fatal": e.fatal}).encode()
        try:
            self.conn.send(ERROR, getattr(self, "request_id", 0), body)
        except OSError:
            pass

    def linger(self):
        try:
            self.conn.sock.shutdown(socket.SHUT_WR)
            self.conn.sock.settimeout(0.5)
            while self.conn.sock.recv(4096):
                pass
        except OSError:
            pass

    def handle(self, msg_type, body) -> bool:
        """Answers one request; returns True when the connection should end."""
        if not self.envs and msg_type != HELLO:
            raise ProtocolError("invalid_state", f"expected HELLO first, got "
                                f"{MESSAGE_NAMES.get(msg_type, msg_type)}", True)
        if msg_type == HELLO:
            self.hello(body)
        elif msg_type == RESET:
            self.reset(body)
        elif msg_type == STEP:
            self.step(body)
        elif msg_type == PING:
            if len(body) > MAX_PING:
                raise ProtocolError("bad_message", "PING payload above 1024 bytes", False)
            self.conn.send(PONG, self.request_id, bytes(body))
        elif msg_type == CLOSE:
            self.conn.send(CLOSE, self.request_id)
            self.linger()
            return True
        elif msg_type == ERROR:
            return bool(json.loads(body).get("fatal"))
        else:
            raise ProtocolError("unsupported", f"{MESSAGE_NAMES.get(msg_type, msg_type)} is not a "
                                "request a server accepts", False)
        return False

    def hello(self, body):
        server = self.server
        if self.envs:
            raise ProtocolError("invalid_state", "second HELLO", False)
        try:
            hello = json.loads(bytes(body).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise ProtocolError("bad_json", f"HELLO: {e}", True)
        if not isinstance(hello, dict) or hello.get("protocol") != "rlcade-wire":
            raise ProtocolError("bad_message", "HELLO must be an object with protocol "
                                "\"rlcade-wire\"", True)
        version = hello.get("version")
        if (not isinstance(version, list) or len(version) != 2
                or not all(isinstance(v, int) for v in version)):
            raise ProtocolError("bad_message", "HELLO: 'version' must be [major, minor]", True)
        if version[0] != VERSION[0]:
            raise ProtocolError("version_mismatch", f"protocol version {version[0]}.{version[1]} "
                                f"is not compatible with {VERSION[0]}.{VERSION[1]}", True)
        if server.token and not hmac.compare_digest(str(hello.get("token", "")).encode(),
                                                    server.token.encode()):
            raise ProtocolError("unauthorized", "wrong token" if hello.get("token") else
                                "this server requires a token", True)
        n = hello.get("num_envs") or server.num_envs
        if not isinstance(n, int) or n < 1 or n > server.max_envs:
            raise ProtocolError("unsupported", f"num_envs {n} is outside [1, {server.max_envs}]", True)
        encoding = hello.get("observation_encoding", "binary")
        if encoding not in ("binary", "json"):
            raise ProtocolError("bad_message", "observation_encoding must be binary or json", True)
        self.json_obs = encoding == "json"
        self.envs = [server.make_env() for _ in range(n)]
        obs = server.obs_space
        self.obs_typecode = ARRAY_TYPECODE[DTYPE_CODES[obs.dtype]]
        self.obs_dims = (n,) + obs.shape
        space = server.action_space
        per_env = 8 if isinstance(space, Discrete) else 4 * space.numel
        self.limit = max(MIN_MAX_BODY, 4 + 4 * 8 + n * per_env)
        welcome = {"protocol": "rlcade-wire", "version": [VERSION[0], min(version[1], VERSION[1])],
                   "env_id": server.env_id, "description": "served by rlcade_wire.py",
                   "num_envs": n, "observation_space": obs.to_json(),
                   "action_space": space.to_json(),
                   "reward_range": [_bound_json(float(v)) for v in server.reward_range],
                   "max_episode_steps": server.max_episode_steps, "max_body_bytes": self.limit,
                   "observation_encoding": encoding,
                   "capabilities": ["final_observation", "json_observations"]}
        self.conn.send(WELCOME, self.request_id, json.dumps(welcome).encode())

    def reset(self, body):
        if len(body) != 16:
            raise ProtocolError("bad_message", f"RESET body has {len(body)} bytes, expected 16", False)
        flags, reserved, seed = struct.unpack("<IIQ", body)
        if flags > 1 or reserved:
            raise ProtocolError("bad_message", "RESET has unknown flags", False)
        observations = []
        for i, env in enumerate(self.envs):
            env_seed = (seed + i) & (2**64 - 1) if flags else (None if self.ever_reset else i)
            observations.append(self.call(env.reset, env_seed))
        self.started = self.ever_reset = True
        n = len(self.envs)
        self.reply([FIRST] * n, [0.0] * n, observations, [])

    def decode_actions(self, body):
        space, n = self.server.action_space, len(self.envs)
        dtype, dims, data, end = decode_tensor(body, 0)
        if end != len(body):
            raise ProtocolError("bad_message", "STEP body has bytes after the action tensor", False)
        if isinstance(space, Discrete):
            want_dtype, want_dims = DTYPE_I64, (n,)
        else:
            want_dtype, want_dims = DTYPE_F32, (n,) + space.shape
        if dtype != want_dtype or tuple(dims) != want_dims:
            names = {DTYPE_U8: "u8", DTYPE_I64: "i64", DTYPE_F32: "f32"}
            raise ProtocolError("bad_action", f"STEP actions are {names[dtype]}{list(dims)}, "
                                f"expected {names[want_dtype]}{list(want_dims)}", False)
        values = data.cast(ARRAY_TYPECODE[dtype]).tolist()
        if isinstance(space, Discrete):
            for i, a in enumerate(values):
                if not 0 <= a < space.n:
                    raise ProtocolError("action_out_of_range",
                                        f"action {a} of env {i} is outside Discrete({space.n})", False)
            return values
        k = space.numel
        rows = [values[i * k:(i + 1) * k] for i in range(n)]
        for i, row in enumerate(rows):
            if not space.contains(row):  # NaN fails every comparison, so it is refused too
                raise ProtocolError("action_out_of_range",
                                    f"action of env {i} is outside the Box bounds", False)
        return rows

    def step(self, body):
        if not self.started:
            raise ProtocolError("invalid_state", "STEP before RESET", False)
        actions = self.decode_actions(body)
        types, rewards, observations, finals = [], [], [], []
        for env, action in zip(self.envs, actions):
            obs, reward, terminated, truncated = self.call(env.step, action)
            kind = TERMINATED if terminated else TRUNCATED if truncated else MID
            if kind != MID:
                finals.append(obs)
                obs = self.call(env.reset, None)
            types.append(kind)
            rewards.append(float(reward))
            observations.append(obs)
        self.reply(types, rewards, observations, finals)

    def call(self, fn, arg):
        try:
            return fn(arg)
        except Exception as e:  # the env's own bug: report it, keep the connection
            self.started = False
            raise ProtocolError("env_failure", f"env raised {type(e).__name__}: {e} "
                                "(send RESET to continue)", False)

    def pack_rows(self, rows):
        numel = self.server.obs_space.numel
        flat = array(self.obs_typecode)
        for row in rows:
            try:
                if isinstance(row, (bytes, bytearray)) and self.obs_typecode == "B":
                    flat.frombytes(row)
                else:
                    flat.extend(row)
            except (OverflowError, TypeError) as e:
                raise ProtocolError("env_failure", f"env returned an observation that does not "
                                    f"fit {self.server.obs_space}: {e}", False)
            if len(flat) % numel:
                raise ProtocolError("env_failure", f"env returned an observation of the wrong "
                                    f"size (expected {numel} values)", False)
        return flat.tobytes()

    def reply(self, types, rewards, observations, finals):
        n = len(types)
        if self.json_obs:
            body = json.dumps({"step_types": types, "rewards": rewards,
                               "observations": [list(o) for o in observations],
                               "final_observations": [list(o) for o in finals]}).encode()
            self.conn.send(STEP_RESULT, self.request_id, body, FLAG_JSON_BODY)
            return
        rank = len(self.obs_dims)
        head = struct.pack("<II", n, len(finals)) + bytes(types) + bytes((-n) % 4)
        body = b"".join((
            head, array("f", rewards).tobytes(),
            struct.pack(f"<BBH{rank}I", DTYPE_CODES[self.server.obs_space.dtype], rank, 0,
                        *self.obs_dims),
            self.pack_rows(observations),
            struct.pack(f"<BBH{rank}I", DTYPE_CODES[self.server.obs_space.dtype], rank, 0,
                        len(finals), *self.obs_dims[1:]),
            self.pack_rows(finals)))
        self.conn.send(STEP_RESULT, self.request_id, body)
