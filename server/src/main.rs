use server::config::Settings;
use server::{shutdown_signal, telemetry, Application};

/// mimalloc in place of glibc's malloc. Profiled on `pay` at 32 clients, glibc's
/// `malloc`/`free` (and its arena locks) took about 12 % of the samples: requests, the
/// sqlx-sqlite worker threads and the Stripe client each allocate on their own thread,
/// which mimalloc's per-thread heaps serve without a shared lock.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => {}
        ["merchant", "add", email] => return add_merchant(settings, email).await,
        _ => {
            eprintln!("usage: server                       run the shop");
            eprintln!("       server merchant add EMAIL    make EMAIL a merchant (password on standard input)");
            return std::process::ExitCode::from(2);
        }
    }
    tracing::info!(?settings, "starting");
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!("cannot start: {error:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Err(error) = app.run_until_stopped(shutdown_signal()).await {
        tracing::error!("server error: {error}");
        return std::process::ExitCode::FAILURE;
    }
    tracing::info!("stopped");
    std::process::ExitCode::SUCCESS
}

/// `server merchant add EMAIL`: the password is read from standard input (one line), so
/// it is never in the shell history or the process list.
async fn add_merchant(settings: Settings, email: &str) -> std::process::ExitCode {
    let mut password = String::new();
    if std::io::stdin().read_line(&mut password).is_err() {
        eprintln!("could not read the password from standard input");
        return std::process::ExitCode::from(2);
    }
    let password = password.trim_end_matches(['\r', '\n']);
    match server::add_merchant(&settings, email, password).await {
        Ok(()) => {
            eprintln!("{email} is a merchant");
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("cannot add the merchant: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
