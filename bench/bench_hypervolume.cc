// Incremental hypervolume (search/pareto.h): inserts N points into a
// ParetoArchive one at a time, as the coordinator does after every trial and
// again when it replays a job at start-up, and prints the updates per second
// with the front's size and hypervolume; then the time of one recomputation
// of the final front from scratch (Hypervolume()). Times are CPU seconds.
//
// Two kinds of point, in 4 and 5 objectives against (1, ..., 1):
//   uniform  coordinates uniform in [0, 1): most points are dominated, the
//            front grows slowly (like a search's trials);
//   simplex  points on the simplex sum = 1: every point joins the front, the
//            hard case for any hypervolume algorithm.
//
//   build/bench/bench_hypervolume [N ...]      (default 1000 2000 5000 10000)
#include <cmath>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "search/pareto.h"
#include "search/rng.h"

namespace {

using unas::search::Point;

// CPU seconds of this process since `since` (std::clock): on a machine
// shared with other builds, wall time says more about them than about us.
double Seconds(std::clock_t since) { return static_cast<double>(std::clock() - since) / CLOCKS_PER_SEC; }

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {1000, 2000, 5000, 10000};
  std::printf("%-8s %3s %6s %11s %10s %12s %10s %12s\n", "points", "d", "kind", "insert s", "updates/s", "front size",
              "hv", "recompute s");
  for (bool simplex : {false, true}) {
    for (int d : {4, 5}) {
      for (int n : sizes) {
        unas::search::Rng rng(static_cast<uint64_t>(1000 * d + n));
        std::vector<Point> points;
        for (int i = 0; i < n; ++i) {
          Point p;
          double sum = 0;
          for (int k = 0; k < d; ++k) {
            p.push_back(unas::search::Uniform01(rng) + (simplex ? 1e-3 : 0.0));
            sum += p.back();
          }
          if (simplex) {
            for (double& v : p) v /= sum;
          }
          points.push_back(p);
        }
        unas::search::ParetoArchive archive(Point(d, 1.0));
        std::clock_t start = std::clock();
        for (int i = 0; i < n; ++i) archive.Insert(i, points[i]);
        const double insert_s = Seconds(start);
        start = std::clock();
        const double again = unas::search::Hypervolume(archive.points(), Point(d, 1.0));
        const double recompute_s = Seconds(start);
        if (std::abs(again - archive.hypervolume()) > 1e-9) {
          std::fprintf(stderr, "bench_hypervolume: incremental %.15g != recomputed %.15g\n", archive.hypervolume(),
                       again);
          return 1;
        }
        std::printf("%-8d %3d %6s %11.3f %10.0f %12zu %10.6f %12.3f\n", n, d, simplex ? "simplex" : "uniform",
                    insert_s, n / insert_s, archive.points().size(), archive.hypervolume(), recompute_s);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
