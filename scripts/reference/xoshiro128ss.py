"""Independent xoshiro128** + splitmix64 seeding, written from the published
algorithm descriptions; prints the first outputs for the seeds the Rust tests
check (crates/kernels/tests/kernels.rs)."""
M64 = (1 << 64) - 1
M32 = (1 << 32) - 1

def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)

def rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32

def xoshiro(seed, count):
    st, a = splitmix64(seed)
    st, b = splitmix64(st)
    s = [a & M32, a >> 32, b & M32, b >> 32]
    out = []
    for _ in range(count):
        out.append((rotl((s[1] * 5) & M32, 7) * 9) & M32)
        t = (s[1] << 9) & M32
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
        s[3] = rotl(s[3], 11)
    return out

for seed in (0, 42, 2**64 - 1):
    print(seed, xoshiro(seed, 6))
