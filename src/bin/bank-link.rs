fn main() {
    klarna_checkout::bank_link::mount_all();
}
