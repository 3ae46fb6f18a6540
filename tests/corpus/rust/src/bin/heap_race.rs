// umbra: race
//! A heap `Vec` shared through a raw pointer: two threads write the same element.

use std::thread;

struct SendPtr(*mut u64);
unsafe impl Send for SendPtr {}

fn main() {
    let mut data: Box<Vec<u64>> = Box::new(vec![0; 16]);
    let ptr = SendPtr(data.as_mut_ptr());
    let t = thread::spawn(move || {
        let p = ptr;
        unsafe { *p.0.add(3) = 1 }; // RACE
    });
    data[3] = 2; // RACE
    t.join().unwrap();
    println!("{}", data[3]);
}
