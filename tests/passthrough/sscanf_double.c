// sscanf (gcc emits __isoc99_sscanf) converting %lf, %f, %Lf and %d on its first
// and on a later call; the values are printed as integers so that only the
// conversions are under test.
// expect: first 4 1500 -250 1250 7
// expect: later 4 3500 750 2500 -9
#include <stdio.h>

static void show(const char *when, int n, double d, float f, long double l, int i) {
    printf("%s %d %ld %ld %ld %d\n", when, n, (long)(d * 1000), (long)(f * 1000),
           (long)(l * 1000), i);
}

int main(void) {
    double d = 0;
    float f = 0;
    long double l = 0;
    int i = 0;
    int n = sscanf("1.5 -0.25 1.25 7", "%lf %f %Lf %d", &d, &f, &l, &i);
    show("first", n, d, f, l, i);
    n = sscanf("3.5 0.75 2.5 -9", "%lf %f %Lf %d", &d, &f, &l, &i);
    show("later", n, d, f, l, i);
    return 0;
}
