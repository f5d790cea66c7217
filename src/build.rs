//! The dashboard in static/ is compiled into the binary by `include_dir!`, which cargo does not
//! track: rebuild when any file there changes.
fn main() {
    println!("cargo:rerun-if-changed=static");
}
