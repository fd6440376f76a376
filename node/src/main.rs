//! `talos`: the Talos node binary. Everything lives in the `talos_node` library; see
//! [`talos_node::cli`].

fn main() -> std::process::ExitCode {
    talos_node::cli::main()
}
