fn main() {
    klarna_checkout::embed::mount_all();
}
