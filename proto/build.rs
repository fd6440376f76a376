//! Compiles the `.proto` schemas with protox (pure Rust, no `protoc`) and prost-build.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let schemas = [
        "schemas/chain.proto",
        "schemas/sync.proto",
        "schemas/msg.proto",
    ];
    for schema in &schemas {
        println!("cargo:rerun-if-changed={schema}");
    }
    let descriptors = protox::compile(schemas, ["schemas"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
