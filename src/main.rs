//! The tve-activate binary: read the configuration, start, serve until told to stop.

use std::process::ExitCode;

use clap::Parser;
use tve_activate::{
    config::{Args, Config},
    http::shutdown,
    logging,
};

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = match Config::try_from(args) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("tve-activate: {err}");
            return ExitCode::from(2);
        }
    };
    logging::init(config.log_format);
    match tve_activate::run(config, shutdown::signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("tve-activate: {err}");
            ExitCode::FAILURE
        }
    }
}
