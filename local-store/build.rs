// The migrations are embedded at compile time, file by file; a new file must rebuild the crate.
fn main() {
    println!("cargo:rerun-if-changed=../migrations/sqlite");
}
