module github.com/gpdoc/gpdoc

go 1.26.0

require (
	github.com/google/uuid v1.6.0
	github.com/segmentio/asm v1.2.1
	github.com/spf13/cobra v1.10.2
	golang.org/x/sync v0.24.0
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
	golang.org/x/sys v0.0.0-20220412211240-33da011f77ad // indirect
)
