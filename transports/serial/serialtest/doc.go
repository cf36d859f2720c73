// Package serialtest provides pseudo-terminal pairs for testing serial code
// without hardware: the simulated device owns the master, and the code under
// test opens the slave path exactly like a real port with serial.Open.
//
// Ptys ignore the baud rate (data arrives as fast as it is written), reject
// the modem-line ioctls (DTR, RTS, CTS) with ENOTTY, and report the master's
// close to the slave as a hang-up. Unlike github.com/creack/pty, the master
// returned here keeps working deadlines. Only tests, the firmware simulator
// and its command import this package.
package serialtest
