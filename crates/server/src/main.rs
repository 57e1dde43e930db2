//! The `watchkeeper` binary: loads the configuration, builds every part from its settings, serves
//! HTTP, and shuts down in order.

mod alert_router;
mod bootstrap;
mod cluster;
mod logging;
mod options;
mod provisioning;
mod ruler;
mod run;
mod shutdown;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// mimalloc instead of the system allocator: the alert path allocates many small, short-lived
/// buffers (request bodies, label strings), where it is markedly faster than glibc's malloc
/// (`docs/performance.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Version and commit, as `--version` and `/api/health` show them.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("WATCHKEEPER_COMMIT"),
    ")"
);

/// Highly available alerting server.
#[derive(Parser)]
#[command(name = "watchkeeper", version = VERSION, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Server(ConfigArgs),
    /// Check the configuration, print every problem, exit non-zero if there is any.
    CheckConfig(ConfigArgs),
}

#[derive(Args)]
struct ConfigArgs {
    /// Configuration file overlaying the embedded defaults (default: <homepath>/conf/custom.ini if present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory relative paths are resolved against (default: the current directory).
    #[arg(long, value_name = "DIR")]
    homepath: Option<PathBuf>,
    /// Overrides, as cfg:section.key=value (or cfg:default.section.key=value).
    #[arg(value_name = "cfg:section.key=value")]
    overrides: Vec<String>,
}

impl ConfigArgs {
    fn load_options(&self) -> Result<wk_config::LoadOptions, String> {
        if let Some(bad) = self.overrides.iter().find(|a| !a.starts_with("cfg:")) {
            return Err(format!(
                "unexpected argument {bad:?}: overrides look like cfg:section.key=value"
            ));
        }
        Ok(wk_config::LoadOptions::from_process(
            self.config.clone(),
            self.homepath.clone(),
            self.overrides.clone(),
        ))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::CheckConfig(args) => check_config(&args),
        Command::Server(args) => server(&args),
    }
}

fn load(args: &ConfigArgs) -> Result<wk_config::Loaded, ExitCode> {
    let opts = args.load_options().map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })?;
    wk_config::load(&opts).map_err(|errors| {
        eprintln!("configuration has {} problem(s):", errors.problems.len());
        for p in &errors.problems {
            eprintln!("  {p}");
        }
        ExitCode::FAILURE
    })
}

fn check_config(args: &ConfigArgs) -> ExitCode {
    match load(args) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("warning: {w}");
            }
            println!("configuration is valid");
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn server(args: &ConfigArgs) -> ExitCode {
    let loaded = match load(args) {
        Ok(l) => l,
        Err(code) => return code,
    };
    if let Err(e) = logging::init(&loaded.settings.log) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    if rustls::crypto::aws_lc_rs::default_provider()
        .install_default()
        .is_err()
    {
        tracing::debug!("a rustls crypto provider was already installed");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run::run(loaded.settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server stopped with an error");
            ExitCode::FAILURE
        }
    }
}
