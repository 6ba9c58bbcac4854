package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() {
	addCommand(func() *cobra.Command {
		token := &cobra.Command{
			Use:   "token",
			Short: "Access tokens for instant messaging",
		}
		var f connFlags
		exchange := &cobra.Command{
			Use:   "exchange ACCESS-CODE",
			Short: "Trade a one-time access code for an instant-messaging AccessToken",
			Long: `exchange trades the one-time access code a user was shown (valid for 60
seconds, single use, so never retried) for an AccessToken, and prints the token
on standard output, for example:

  export CONNEQT_ACCESS_TOKEN="$(gpdoc token exchange 123456)"

The token is a secret: gpdoc never logs it.`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if f.sim {
					return usageError("a simulator started by this command has issued no access code: run 'gpdoc sim' and give --url")
				}
				c, closeAll, err := f.open(cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				defer closeAll()
				t, err := c.ExchangeAccessCode(cmd.Context(), args[0])
				if err != nil {
					return withCode(exitFailed, err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), t)
				return nil
			},
		}
		f.register(exchange)
		token.AddCommand(exchange)
		return token
	})
}
