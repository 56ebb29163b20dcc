fn main() {
    klarna_checkout::embed::define_all();
}
