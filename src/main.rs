//! The `brigade` binary: parse the command line, set up logging, run a subcommand.

use std::process::ExitCode;

use brigade::cli::{Cli, Command};
use brigade::Config;
use clap::Parser;

fn init_tracing(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json =
        config.log_format == "json" || std::env::var("LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::PrintConfig = cli.command {
        brigade::cli::print_config();
        return ExitCode::SUCCESS;
    }
    let mut config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("brigade: {e:#}");
            return ExitCode::from(2);
        }
    };
    let result = match &cli.command {
        Command::Serve(args) => {
            args.apply(&mut config);
            init_tracing(&config);
            brigade::run::serve(config, args.bootstrap_org.clone()).await
        }
        Command::Migrate(args) => {
            args.apply(&mut config);
            init_tracing(&config);
            brigade::run::migrate(config).await
        }
        Command::Healthcheck(args) => {
            args.apply(&mut config);
            brigade::run::healthcheck(config).await
        }
        Command::Reindex(args) => {
            args.apply(&mut config);
            init_tracing(&config);
            brigade::run::reindex(config).await
        }
        Command::RefreshTokenCreate(a) => {
            a.common.apply(&mut config);
            brigade::run::refresh_token_create(config, &a.user, &a.description, a.json).await
        }
        Command::RefreshTokenList(a) => {
            a.common.apply(&mut config);
            brigade::run::refresh_token_list(config, &a.user, a.json).await
        }
        Command::RefreshTokenRevoke(a) => {
            a.common.apply(&mut config);
            brigade::run::refresh_token_revoke(config, &a.user, &a.id).await
        }
        Command::PrintConfig => unreachable!("handled above"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("brigade: {e:#}");
            ExitCode::FAILURE
        }
    }
}
