package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

func init() {
	addCommand(func() *cobra.Command {
		var f connFlags
		var asJSON bool
		cmd := &cobra.Command{
			Use:   "topics",
			Short: "List the topics the service accepts on a message",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				c, closeAll, err := f.open(cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				defer closeAll()
				topics, err := c.Topics(cmd.Context())
				if err != nil {
					return withCode(exitFailed, err)
				}
				if asJSON {
					return json.NewEncoder(cmd.OutOrStdout()).Encode(topics)
				}
				for _, t := range topics {
					fmt.Fprintln(cmd.OutOrStdout(), t)
				}
				return nil
			},
		}
		f.register(cmd)
		cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
		return cmd
	})
}
