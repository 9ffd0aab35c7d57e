#include "cli/torch_commands.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/connection.h"
#include "costmodel/cost_model.h"
#include "worker/train_config.h"

namespace unas::cli {

Args ServeArgs() {
  Args args("serve", "[options]",
            "Runs the coordinator: the gRPC API for jobs and workers, the SQLite store in the data\n"
            "directory, one search driver per job, and embedded workers. Restarting on the same data\n"
            "directory resumes every unfinished job. Prints the dashboard's address and where the\n"
            "token is.");
  AddDataDirFlag(args, "where the database and the token live");
  args.Flag("listen", "HOST:PORT", "gRPC address (loopback by default)", "127.0.0.1:7070");
  args.Flag("http", "HOST:PORT", "REST API, dashboard and /healthz, /readyz (\"off\": none)", "127.0.0.1:8080");
  args.Flag("web-dir", "DIR", "the dashboard's files", UNAS_DEFAULT_WEB_DIR);
  args.Env("web-dir", "UNAS_WEB_DIR");
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  args.Flag("workers", "N", "embedded workers (0: only remote workers)", std::to_string(cores));
  args.Flag("worker-threads", "N", "training threads per embedded worker (0: the job's setting)", "1");
  args.Flag("token", "TOKEN", "bearer token to require (else --token-file, UNAS_TOKEN, DATA_DIR/token)");
  args.Flag("token-file", "PATH", "read the token from this file's first line (e.g. a mounted secret)");
  args.Switch("no-auth", "accept calls without a token (only with a loopback --listen)");
  args.Flag("tls-cert", "PEM", "serve TLS with this certificate chain");
  args.Flag("tls-key", "PEM", "private key of --tls-cert");
  args.Flag("lease-timeout-ms", "MS", "a trial's lease expires unless renewed within this", "60000");
  args.Flag("heartbeat-ms", "MS", "how often workers renew their lease", "10000");
  args.Flag("exit-when-idle", "SECONDS", "exit once no job is unfinished for this long (0: never)", "0");
  args.Flag("max-running-jobs", "N", "refuse a new job while this many are queued or running (0: no limit)", "100");
  args.Flag("max-dataset-bytes", "BYTES", "refuse a registered data set (unas data add) larger than this",
            std::to_string(int64_t{16} << 30));
  return args;
}

Args WorkerArgs() {
  Args args("worker", "--coordinator HOST:PORT [options]",
            "Registers with a coordinator, pulls trials, trains them and reports, until SIGTERM (the\n"
            "trial in progress then goes back to the queue). Reconnects with backoff when the\n"
            "coordinator is away. Data sets stay loaded between trials.\n"
            "\n"
            "Exit status: 0 stopped (SIGTERM, --max-trials); 1 cannot start; 2 bad usage;\n"
            "3 the coordinator refused the token 3 times in a row; 4 the coordinator told this\n"
            "worker to stop because 3 trials in a row failed on it for want of something this\n"
            "worker lacks (its data set, memory). The log's last line says why.");
  AddConnectionFlags(args);
  args.Flag("name", "NAME", "how this worker shows in the coordinator (default: the host name)");
  args.Flag("threads", "N", "training threads (0: the job's setting)", "0");
  args.Flag("max-trials", "N", "exit after this many trials (0: never)", "0");
  args.Flag("cache-dir", "DIR",
            "where registered data sets (a job's data:NAME) are fetched to and reused from "
            "(default: $XDG_CACHE_HOME/unas/datasets, else ~/.cache/unas/datasets)");
  args.Env("cache-dir", "UNAS_CACHE_DIR");
  args.Flag("cache-max-bytes", "BYTES", "the cache's size limit; least recently used data sets go first",
            std::to_string(int64_t{20} << 30));
  return args;
}

Args TrainArgs() {
  Args args("train", "ARCH.json [options]",
            "Trains a candidate architecture (uNAS JSON format; '-' reads stdin) and reports its\n"
            "validation and test error. Defaults are uNAS's Fashion-MNIST configuration (SGDW, momentum\n"
            "0.9, weight decay 1e-5, dropout 0.15). Prints a progress bar per epoch on a terminal, plain\n"
            "lines otherwise, then a JSON summary. Ctrl-C stops between batches. Exit code 1 when the\n"
            "trial fails or is cancelled.");
  args.Flag("dataset", "NAME",
            "fashion-mnist, synthetic, idx:DIR[:CLASSES], cifar10:DIR, folder:DIR (image folders) or "
            "csv:FILE|DIR (sensor windows), speech_commands:DIR (keyword clips); docs/data.md",
            "fashion-mnist");
  args.Flag("words", "W1,W2,...", "speech_commands: the wanted words (default the ten standard ones)", "");
  args.Flag("input-shape", "H,W,C", "folder:/csv: data: convert images (resize) to this shape; windows are L,1,C");
  args.Flag("bad-files", "fail|skip", "folder: data: an undecodable image fails the run, or is skipped and counted",
            "fail");
  // Defaults are TrainConfig's and PruneConfig's own (worker/train_config.h),
  // the same a job spec starts from; only the schedule is μNAS's here.
  const worker::TrainConfig defaults;
  auto shown = [](double v) {
    std::ostringstream out;
    out << v;
    return out.str();
  };
  args.Flag("epochs", "N", "training epochs", std::to_string(defaults.epochs));
  args.Flag("subset", "F", "fraction (0, 1] of the training set to use (fidelity)", shown(defaults.subset));
  args.Flag("batch-size", "N", "batch size", std::to_string(defaults.batch_size));
  args.Flag("optimizer", "sgdw|adamw", "optimizer (--optimiser is accepted too)",
            worker::OptimizerName(defaults.optimizer));
  args.Alias("optimiser", "optimizer");
  args.Flag("lr", "LR", "learning rate", shown(defaults.learning_rate));
  args.Flag("lr-schedule", "E:LR,...", "from epoch E (0-based) on use LR", "25:0.005,35:0.001");
  args.Flag("momentum", "M", "SGDW momentum", shown(defaults.momentum));
  args.Flag("weight-decay", "WD", "decoupled weight decay", shown(defaults.weight_decay));
  args.Flag("dropout", "P", "dropout before dense blocks", shown(defaults.dropout));
  args.Flag("threads", "N", "LibTorch threads (0: LibTorch's default)", std::to_string(defaults.threads));
  args.Flag("seed", "S", "seed for weights, shuffling, dropout and augmentation", "0");
  args.Flag("save", "FILE", "save the trained weights here (torch::save)");
  args.Flag("init-weights", "FILE", "continue from these weights (a --save file of the same architecture)");
  args.Flag("start-epoch", "E", "with --init-weights: the epochs they had; runs epochs E .. --epochs - 1", "0");
  args.Switch("augment", "random shift +-2 px and horizontal flip (as --augment-shift 2 --augment-flip)");
  args.Flag("augment-shift", "PX", "random shift by up to PX pixels (windows: time steps), zero padded", "0");
  args.Switch("augment-flip", "random horizontal flip (not for digits or letters)");
  args.Flag("augment-noise", "SD", "additive Gaussian noise, in units of the channel's std", "0");
  args.Flag("prune", "peak_sram|flash", "prune channels aimed at this resource, then fine-tune");
  args.Flag("prune-fraction", "F", "at most this fraction (0, 1) of prunable channels is removed",
            shown(defaults.prune.max_fraction));
  args.Flag("prune-layer-fraction", "F", "and at most this fraction (0, 1] of any one layer's channels",
            shown(defaults.prune.max_group_fraction));
  args.Flag("prune-target-bytes", "N", "stop pruning once the targeted resource is at most N bytes (or \"32kB\", \"64KiB\")");
  args.Flag("prune-epoch", "E", "one-shot: prune at the start of epoch E (0-based; default: the last epoch); "
                              "during training: the schedule starts at epoch E (default 0)");
  args.Flag("prune-mode", "one_shot|during_training",
            "prune once and fine-tune, or mask channels while training (DPF; needs a target)",
            worker::PruneModeName(defaults.prune.mode));
  args.Flag("prune-target-ratio", "R", "aim at R (0, 1) times the proposed network's resource");
  args.Flag("prune-end-epoch", "E", "during training: the target is reached at the start of epoch E "
                                  "(default: half the epochs)");
  args.Flag("prune-update-steps", "K", "during training: recompute the masks every K steps",
            std::to_string(defaults.prune.update_steps));
  args.Flag("prune-accounting", "tflm|tflm_cmsis_nn|unas|firmware", "memory accounting the pruning is costed with",
            AccountingName(defaults.prune.accounting));
  args.Flag("save-pruned", "FILE", "write the pruned candidate (uNAS JSON) here");
  args.Flag("out", "DIR", "quantise to int8 (calibrated on 1000 training images) and write DIR/model.tflite and "
                          "DIR/metrics.json (float and int8 accuracies) and the C library DIR/c/; DIR is created if missing");
  return args;
}

Result<std::string> TorchBinaryPath() {
  std::string self(4096, '\0');
  const ssize_t n = readlink("/proc/self/exe", self.data(), self.size());
  if (n <= 0 || static_cast<size_t>(n) >= self.size()) {
    return Status::NotFound(std::string("cannot read /proc/self/exe: ") + std::strerror(errno));
  }
  self.resize(static_cast<size_t>(n));
  return self.substr(0, self.rfind('/') + 1) + "unas-torch";
}

int ExecTorchCommand(Args args, const std::string& command, const std::vector<std::string>& argv) {
  if (auto rc = args.ParseOrExit(argv)) return *rc;
  auto path = TorchBinaryPath();
  if (!path.ok()) {
    std::cerr << "unas " << command << ": " << path.status().message() << "\n";
    return 1;
  }
  std::vector<std::string> words = {"unas-torch", command};
  words.insert(words.end(), argv.begin(), argv.end());
  std::vector<char*> exec_argv;
  for (std::string& w : words) exec_argv.push_back(w.data());
  exec_argv.push_back(nullptr);
  std::cout.flush();
  execv(path->c_str(), exec_argv.data());
  std::cerr << "unas " << command << ": cannot run " << *path << ": " << std::strerror(errno)
            << " (serve, worker and train run in unas-torch, which is built and installed beside unas)\n";
  return 1;
}

}  // namespace unas::cli
