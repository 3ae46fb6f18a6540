fn main() {
    racy_fixture::race();
}
