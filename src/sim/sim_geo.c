/*
 * The city table behind sim_geo.h. Cities of one region are contiguous, so
 * a region's slice is found with one scan. Weights are rough metro sizes;
 * region weights are a rough share of streaming listeners.
 */
#include "base/common.h"
#include "sim/sim_geo.h"

static const struct sim_city cities[] = {
    {"NA", "US", "New York", 40.7128, -74.0060, -300, 10},
    {"NA", "US", "Los Angeles", 34.0522, -118.2437, -480, 8},
    {"NA", "US", "Chicago", 41.8781, -87.6298, -360, 5},
    {"NA", "US", "Houston", 29.7604, -95.3698, -360, 4},
    {"NA", "US", "Seattle", 47.6062, -122.3321, -480, 2.5},
    {"NA", "CA", "Toronto", 43.6532, -79.3832, -300, 3.5},
    {"NA", "CA", "Vancouver", 49.2827, -123.1207, -480, 1.5},
    {"NA", "MX", "Mexico City", 19.4326, -99.1332, -360, 7},
    {"SA", "BR", "São Paulo", -23.5505, -46.6333, -180, 10},
    {"SA", "BR", "Rio de Janeiro", -22.9068, -43.1729, -180, 6},
    {"SA", "AR", "Buenos Aires", -34.6037, -58.3816, -180, 6},
    {"SA", "CO", "Bogotá", 4.7110, -74.0721, -300, 4},
    {"SA", "PE", "Lima", -12.0464, -77.0428, -300, 4},
    {"SA", "CL", "Santiago", -33.4489, -70.6693, -240, 3.5},
    {"EU", "GB", "London", 51.5074, -0.1278, 0, 9},
    {"EU", "FR", "Paris", 48.8566, 2.3522, 60, 8},
    {"EU", "DE", "Berlin", 52.5200, 13.4050, 60, 5},
    {"EU", "ES", "Madrid", 40.4168, -3.7038, 60, 5},
    {"EU", "IT", "Milan", 45.4642, 9.1900, 60, 4},
    {"EU", "NL", "Amsterdam", 52.3676, 4.9041, 60, 2.5},
    {"EU", "SE", "Stockholm", 59.3293, 18.0686, 60, 2},
    {"EU", "PL", "Warsaw", 52.2297, 21.0122, 60, 2.5},
    {"EU", "GR", "Athens", 37.9838, 23.7275, 120, 2.5},
    {"AF", "NG", "Lagos", 6.5244, 3.3792, 60, 10},
    {"AF", "EG", "Cairo", 30.0444, 31.2357, 120, 9},
    {"AF", "ZA", "Johannesburg", -26.2041, 28.0473, 120, 5},
    {"AF", "KE", "Nairobi", -1.2921, 36.8219, 180, 4},
    {"AF", "MA", "Casablanca", 33.5731, -7.5898, 60, 3},
    {"AF", "GH", "Accra", 5.6037, -0.1870, 0, 2.5},
    {"AS", "JP", "Tokyo", 35.6762, 139.6503, 540, 10},
    {"AS", "IN", "Mumbai", 19.0760, 72.8777, 330, 9},
    {"AS", "IN", "Delhi", 28.7041, 77.1025, 330, 9},
    {"AS", "KR", "Seoul", 37.5665, 126.9780, 540, 6},
    {"AS", "ID", "Jakarta", -6.2088, 106.8456, 420, 7},
    {"AS", "PH", "Manila", 14.5995, 120.9842, 480, 5},
    {"AS", "TH", "Bangkok", 13.7563, 100.5018, 420, 4},
    {"AS", "SG", "Singapore", 1.3521, 103.8198, 480, 2},
    {"AS", "AE", "Dubai", 25.2048, 55.2708, 240, 1.5},
    {"OC", "AU", "Sydney", -33.8688, 151.2093, 600, 5},
    {"OC", "AU", "Melbourne", -37.8136, 144.9631, 600, 5},
    {"OC", "AU", "Perth", -31.9505, 115.8605, 480, 2},
    {"OC", "NZ", "Auckland", -36.8485, 174.7633, 720, 1.7},
    {"OC", "FJ", "Suva", -18.1248, 178.4501, 720, 0.2},
};

static const struct {
	const char *code;
	double weight;
} region_weights[] = {
    {"NA", 22}, {"SA", 12}, {"EU", 25}, {"AF", 8}, {"AS", 28}, {"OC", 5},
};

static int code_is(const char *a, const char *code, size_t len)
{
	return strlen(a) == len && !memcmp(a, code, len);
}

const struct sim_city *sim_geo_cities(const char *code, size_t len, size_t *n)
{
	size_t first = ARRAY_SIZE(cities), count = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cities); i++) {
		if (!code_is(cities[i].region, code, len))
			continue;
		if (!count)
			first = i;
		count++;
	}
	*n = count;
	return count ? &cities[first] : NULL;
}

double sim_geo_region_weight(const char *code, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(region_weights); i++)
		if (code_is(region_weights[i].code, code, len))
			return region_weights[i].weight;
	return 100.0 / ARRAY_SIZE(region_weights); /* an average region */
}
