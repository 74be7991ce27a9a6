/*
 * The simulator's pseudo-random numbers: xoshiro256** (Blackman and Vigna),
 * seeded through splitmix64, plus the few distributions the model draws
 * from. Everything the simulator produces is a function of its seeds, so a
 * run can be repeated exactly; nothing here reads the clock or the process
 * state. A struct sim_rng is a plain value with one owner; not thread-safe.
 */
#ifndef SIM_SIM_RNG_H
#define SIM_SIM_RNG_H

#include <stdint.h>

struct sim_rng {
	uint64_t s[4];
};

/* UUIDs are 36 characters plus the terminating NUL. */
#define SIM_UUID_SIZE 37

/* One splitmix64 step: advances *state and returns the next output. Also a
 * good 64-bit mixer for deriving independent seeds from (seed, index). */
uint64_t sim_rng_splitmix(uint64_t *state);

/* Seeds r from a 64-bit seed; every seed, including 0, gives a valid state. */
void sim_rng_seed(struct sim_rng *r, uint64_t seed);

uint64_t sim_rng_next(struct sim_rng *r);

/* Uniform double in [0, 1), 53 random bits. */
double sim_rng_unit(struct sim_rng *r);

/* Uniform integer in [0, n); n > 0. Unbiased (Lemire's multiply-and-reject). */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n);

/* Exponential with the given mean (> 0). */
double sim_rng_exp(struct sim_rng *r, double mean);

/* Standard normal, by the Box-Muller transform. */
double sim_rng_normal(struct sim_rng *r);

/* True with probability p. */
int sim_rng_chance(struct sim_rng *r, double p);

/* A random (version 4, RFC 4122 variant) UUID in lowercase canonical form,
 * 8-4-4-4-12, into out[SIM_UUID_SIZE]. */
void sim_rng_uuid(struct sim_rng *r, char *out);

#endif
