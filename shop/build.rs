// `sqlx::migrate!` embeds ./migrations at compile time, but cargo does not know that it
// reads the directory: without this, a new migration file leaves a stale build that
// never runs it.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
