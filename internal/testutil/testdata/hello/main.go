// Command hello is a fixture for the build tests of package testutil.
package main

import "fmt"

func main() { fmt.Println("hello from testdata") }
